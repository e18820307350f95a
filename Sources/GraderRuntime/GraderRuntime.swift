// GraderRuntime module.
