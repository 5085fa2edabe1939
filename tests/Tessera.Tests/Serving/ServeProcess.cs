using Tessera.Tests.Support;

namespace Tessera.Tests.Serving;

/// <summary>
/// The real `tessera serve` process, started with the given arguments; ready once it printed its "listening on"
/// line. Its stdout lines are kept (the local workers' addresses are printed there); Dispose kills what is left.
/// </summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly TesseraProcess _process;

    public ServeProcess(params string[] args) => _process = new TesseraProcess(["serve", .. args]);

    private ServeProcess(string[] prefix, string[] args) => _process = new TesseraProcess(["serve", .. args], prefix);

    /// <summary>The server under a command prefix (e.g. `ip netns exec NS`).</summary>
    public static ServeProcess Under(string[] prefix, params string[] args) => new(prefix, args);

    public HttpClient Client { get; private set; } = null!;

    public int Pid => _process.Pid;

    /// <summary>What the server printed so far (stdout and stderr).</summary>
    public string Log => _process.Log;

    /// <summary>Waits until the server listens (it may load models for a while); fails with its log if it exits first.</summary>
    public async Task WaitUntilListeningAsync()
    {
        string addresses;
        try
        {
            addresses = await _process.Listening.WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch (InvalidOperationException e)
        {
            Assert.Fail($"tessera serve exited: {e.Message}");
            throw;
        }

        Client = new HttpClient { BaseAddress = new Uri(addresses.Split(',')[0].Trim()), Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>The addresses of the local workers `--workers N` started, from the line the server printed.</summary>
    public string[] LocalWorkerAddresses()
    {
        const string marker = "local worker(s) at ";
        string started = _process.Lines.Single(l => l.Contains(marker, StringComparison.Ordinal));
        return started[(started.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].Split(", ");
    }

    /// <summary>The gRPC address (with --grpc) from the "listening on" line.</summary>
    public string GrpcAddress()
    {
        const string marker = "gRPC on ";
        string line = _process.Lines.Single(l => l.Contains(marker, StringComparison.Ordinal));
        return line[(line.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].Trim();
    }

    /// <summary>Fails unless connecting to HOST:PORT is refused (the worker there has stopped).</summary>
    public static async Task AssertNothingListensAsync(string address)
    {
        int colon = address.LastIndexOf(':');
        using var probe = new System.Net.Sockets.TcpClient();
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => probe.ConnectAsync(address[..colon], int.Parse(address[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>Sends SIGTERM and waits for a graceful exit; returns the exit code.</summary>
    public Task<int> TerminateAsync() => _process.TerminateAsync();

    /// <summary>SIGKILLs the server alone (not its children): it gets no chance to stop its local workers.</summary>
    public void KillAlone() => _process.KillAlone();

    public void Dispose()
    {
        Client?.Dispose();
        _process.Dispose();
    }
}
