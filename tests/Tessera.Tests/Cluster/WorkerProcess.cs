using Tessera.Tests.Support;

namespace Tessera.Tests.Cluster;

/// <summary>
/// A real `tessera worker` process on loopback (port 0, so parallel tests never collide). The address is read from
/// its "listening on" line; stderr (the log) is collected for assertions. Dispose kills it.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly TesseraProcess _process;

    public WorkerProcess(string tokenFile, string cacheDir, params string[] extra)
        : this(["worker", "--listen", "127.0.0.1:0", "--token-file", tokenFile, "--cache-dir", cacheDir, .. extra], prefix: [])
    {
    }

    private WorkerProcess(string[] args, string[] prefix)
    {
        _process = new TesseraProcess(args, prefix);
        try
        {
            if (!_process.Listening.Wait(TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException($"worker did not start listening within 30 s; log:\n{Log}");
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        Address = _process.Listening.Result;
    }

    /// <summary>Runs the worker under a command prefix (e.g. `ip netns exec NS`) listening on the given address.</summary>
    public static WorkerProcess Under(string[] prefix, string listen, string tokenFile, string cacheDir) =>
        new(["worker", "--listen", listen, "--token-file", tokenFile, "--cache-dir", cacheDir], prefix);

    /// <summary>A worker listening on a given address (a restart on the port of one that was killed).</summary>
    public static WorkerProcess At(string listen, string tokenFile, string cacheDir, params string[] extra) =>
        new(["worker", "--listen", listen, "--token-file", tokenFile, "--cache-dir", cacheDir, .. extra], []);

    public string Address { get; }

    public int Pid => _process.Pid;

    public bool HasExited => _process.HasExited;

    public string Log => _process.Log;

    /// <summary>Waits until the log contains <paramref name="text"/> (logging is asynchronous).</summary>
    public bool WaitForLog(string text, TimeSpan? timeout = null) => _process.WaitForLog(text, timeout);

    /// <summary>Sends a POSIX signal (STOP freezes the worker without closing its sockets).</summary>
    public void Signal(string name) => _process.Signal(name);

    public void Dispose() => _process.Dispose();
}
