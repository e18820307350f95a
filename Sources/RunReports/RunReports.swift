// RunReports module: TensorBoard event files and HTML reports for runs.
