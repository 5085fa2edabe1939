using System.Diagnostics;

namespace Tessera.Tests.Serving;

/// <summary>
/// The real `tessera serve` process, started with the given arguments; ready once it printed its "listening on"
/// line. Every stdout line up to it is kept (the local workers' addresses are printed there); Dispose kills what is left.
/// </summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Task<string> _stderr;

    public ServeProcess(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tessera.dll"));
        info.ArgumentList.Add("serve");
        foreach (string a in args) info.ArgumentList.Add(a);
        _process = Process.Start(info)!;
        _stderr = _process.StandardError.ReadToEndAsync();
    }

    public HttpClient Client { get; private set; } = null!;

    public int Pid => _process.Id;

    /// <summary>Reads stdout until the server listens; fails with its stderr if it exits first.</summary>
    public async Task WaitUntilListeningAsync()
    {
        const string marker = "listening on ";
        while (true)
        {
            string? line = await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2));
            if (line is null) Assert.Fail($"tessera serve exited: {await _stderr}");
            _lines.Add(line!);
            int at = line!.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                Client = new HttpClient { BaseAddress = new Uri(line[(at + marker.Length)..].Split(',')[0].Trim()), Timeout = TimeSpan.FromSeconds(60) };
                _ = _process.StandardOutput.ReadToEndAsync(); // keep draining the log
                return;
            }
        }
    }

    /// <summary>The addresses of the local workers `--workers N` started, from the line the server printed.</summary>
    public string[] LocalWorkerAddresses()
    {
        const string marker = "local worker(s) at ";
        string started = _lines.Single(l => l.Contains(marker, StringComparison.Ordinal));
        return started[(started.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].Split(", ");
    }

    /// <summary>Fails unless connecting to HOST:PORT is refused (the worker there has stopped).</summary>
    public static async Task AssertNothingListensAsync(string address)
    {
        int colon = address.LastIndexOf(':');
        using var probe = new System.Net.Sockets.TcpClient();
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => probe.ConnectAsync(address[..colon], int.Parse(address[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>Sends SIGTERM and waits for a graceful exit; returns the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return _process.ExitCode;
    }

    /// <summary>SIGKILLs the server alone (not its children): it gets no chance to stop its local workers.</summary>
    public void KillAlone()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit(5000);
    }

    public void Dispose()
    {
        Client?.Dispose();
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
