extension PythonBootstrap {
    /// Source of the `rft_exec` module the bootstrap installs for graders whose manifest has `"exec"`
    /// (Python/rft_exec.py, embedded in the binary and passed as the bootstrap's last argument, like the
    /// bootstrap itself, so no file is mounted).
    ///
    /// ```python
    /// import rft_exec
    /// r = rft_exec.run(["/usr/bin/python3", "-c", code], stdin="1 2\n", timeout_ms=2000, memory_mb=256)
    /// r.status, r.exit_code, r.stdout, r.stderr, r.wall_ms, r.cpu_ms, r.peak_memory_bytes
    /// with rft_exec.Session(["/usr/bin/python3", "-c", server]) as s:   # fd 3: requests, fd 4: replies
    ///     reply = s.call('{"call": "add", "args": [1, 2]}', timeout_ms=2000)  # one line each way
    /// ```
    /// It shares the worker's frame channel: requests go out as `{"rft_exec": {...}}` frames, replies come
    /// back as `{"rft_exec_reply": {...}}` frames and are matched by id, so calls may come from many threads.
    public static let execModuleSource = embedded(PackageResources.rft_exec_py)
}
