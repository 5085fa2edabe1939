using System.Diagnostics;
using System.Text;

namespace Tessera.Tests.Cluster;

/// <summary>
/// A real `tessera worker` process on loopback (port 0, so parallel tests never collide). The address is read from
/// its "listening on" line; stderr (the log) is collected for assertions. Dispose kills it.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource<string> _address = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public WorkerProcess(string tokenFile, string cacheDir, params string[] extra)
        : this(["worker", "--listen", "127.0.0.1:0", "--token-file", tokenFile, "--cache-dir", cacheDir, .. extra], prefix: [])
    {
    }

    private WorkerProcess(string[] args, string[] prefix)
    {
        var info = new ProcessStartInfo(prefix.Length > 0 ? prefix[0] : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string p in prefix.Skip(1)) info.ArgumentList.Add(p);
        if (prefix.Length > 0) info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tessera.dll"));
        foreach (string a in args) info.ArgumentList.Add(a);
        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) =>
        {
            const string marker = "listening on ";
            if (e.Data is { } line && line.Contains(marker, StringComparison.Ordinal))
            {
                _address.TrySetResult(line[(line.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].Trim());
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_log) _log.AppendLine(e.Data);
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!_address.Task.Wait(TimeSpan.FromSeconds(30)))
        {
            Dispose();
            throw new TimeoutException($"worker did not start listening within 30 s; log:\n{Log}");
        }

        Address = _address.Task.Result;
    }

    /// <summary>Runs the worker under a command prefix (e.g. `ip netns exec NS`) listening on the given address.</summary>
    public static WorkerProcess Under(string[] prefix, string listen, string tokenFile, string cacheDir) =>
        new(["worker", "--listen", listen, "--token-file", tokenFile, "--cache-dir", cacheDir], prefix);

    /// <summary>A worker listening on a given address (a restart on the port of one that was killed).</summary>
    public static WorkerProcess At(string listen, string tokenFile, string cacheDir) => Under([], listen, tokenFile, cacheDir);

    public string Address { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Log
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    /// <summary>Waits until the log contains <paramref name="text"/> (logging is asynchronous).</summary>
    public bool WaitForLog(string text, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(10)))
        {
            if (Log.Contains(text, StringComparison.Ordinal)) return true;
            Thread.Sleep(20);
        }

        return false;
    }

    /// <summary>Sends a POSIX signal (STOP freezes the worker without closing its sockets).</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
