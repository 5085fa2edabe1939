using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Tessera.Tests.Support;

/// <summary>
/// A long-running `tessera` process (a server or a worker), optionally under a command prefix such as `ip netns exec
/// NS`: its stdout lines and its stderr log are kept, the text after its "listening on " line is where it listens,
/// and Dispose kills it with its children. <c>ServeProcess</c> and <c>WorkerProcess</c> are this with their command lines.
/// </summary>
internal sealed class TesseraProcess : IDisposable
{
    private const string ListeningMarker = "listening on ";

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TesseraProcess(IReadOnlyList<string> args, IReadOnlyList<string>? prefix = null)
    {
        prefix ??= [];
        var info = new ProcessStartInfo(prefix.Count > 0 ? prefix[0] : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string p in prefix.Skip(1)) info.ArgumentList.Add(p);
        if (prefix.Count > 0) info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tessera.dll"));
        foreach (string a in args) info.ArgumentList.Add(a);
        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
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
    }

    /// <summary>What the process printed after "listening on " (its address); fails if stdout ends first.</summary>
    public Task<string> Listening => _listening.Task;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Stdout so far, line by line.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines) return [.. _lines];
        }
    }

    /// <summary>Stderr so far: the process's log.</summary>
    public string Log
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _listening.TrySetException(new InvalidOperationException($"tessera exited before it listened; its log:\n{Log}"));
            return;
        }

        lock (_lines) _lines.Add(line);
        int at = line.IndexOf(ListeningMarker, StringComparison.Ordinal);
        if (at >= 0)
        {
            _listening.TrySetResult(line[(at + ListeningMarker.Length)..].Trim());
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

    /// <summary>Waits for the process to exit and its output to be read; false on timeout.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) return false;
        _process.WaitForExit();
        return true;
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>Sends a POSIX signal by name (STOP, CONT, TERM, ...).</summary>
    public void Signal(string name) => PosixSignal.Send(Pid, name);

    /// <summary>Sends SIGTERM and waits for a graceful exit; returns the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        Signal("TERM");
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return _process.ExitCode;
    }

    /// <summary>SIGKILLs the process alone (not its children): it gets no chance to stop them.</summary>
    public void KillAlone()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit(5000);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                // Until it is gone (its listening socket with it), however long a starved host takes to tear it down:
                // a test may start another process on its port next.
                _process.WaitForExit(30_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
