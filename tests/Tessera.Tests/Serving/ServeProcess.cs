using System.Diagnostics;

namespace Tessera.Tests.Serving;

/// <summary>
/// The real `tessera serve` process, started with the given arguments; ready once it printed its "listening on"
/// line. Every stdout line is kept (the local workers' addresses are printed there); Dispose kills what is left.
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

    public IReadOnlyList<string> Lines => _lines;

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
