using System.Diagnostics;
using System.Globalization;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Execution;

/// <summary>
/// N `tessera worker` processes on loopback, each on a free port, sharing a fresh random token and a temporary
/// cache, started by this process and stopped (killed) on dispose: the embedded default of <c>run --workers N</c> and
/// <c>serve --workers N</c>. A worker that dies is started again on its address (so the coordinator's probes bring the
/// same client back and its cached models need no shipping), after 0.25 s, doubling up to 8 s while it keeps dying.
/// Each worker's stdin is a pipe this process holds open and never writes: when this process dies, even by SIGKILL
/// (no dispose, no exit handler), the kernel closes the pipe and the worker (`--until-stdin-closes`) stops.
/// </summary>
public sealed class LocalWorkers : IDisposable
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestBackoff = TimeSpan.FromSeconds(8);

    // A worker that ran this long before dying is restarted after the first backoff again.
    private static readonly TimeSpan Settled = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly Process[] _processes;
    private readonly string _directory;
    private readonly string _tokenFile;
    private readonly int _threads;
    private readonly IReadOnlyList<string> _command;
    private readonly IReadOnlyList<string> _workerArguments;
    private readonly CancellationTokenSource _stopping = new();
    private long _startDeadline; // Stopwatch timestamp: the start budget ends here, connecting included

    private LocalWorkers(string directory, string tokenFile, ClusterToken token, int threads, IReadOnlyList<string> command, IReadOnlyList<string> workerArguments, int count)
    {
        _workerArguments = workerArguments;
        _directory = directory;
        _tokenFile = tokenFile;
        Token = token;
        _threads = threads;
        _command = command;
        _processes = new Process[count];
    }

    public ClusterToken Token { get; }

    public IReadOnlyList<string> Addresses { get; private set; } = [];

    /// <param name="command">How to start `tessera` (the program and arguments before `worker`).</param>
    /// <param name="workerArguments">More options of `tessera worker` (e.g. --otlp-endpoint URL).</param>
    public static LocalWorkers Start(int count, int threads, IReadOnlyList<string> command, TimeSpan startTimeout, IReadOnlyList<string>? workerArguments = null)
    {
        string directory = Directory.CreateTempSubdirectory("tessera-local-workers-").FullName;
        string secret = ClusterToken.NewSecret();
        string tokenFile = Path.Combine(directory, "token");
        File.WriteAllText(tokenFile, secret);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var workers = new LocalWorkers(directory, tokenFile, new ClusterToken(secret), threads, command, workerArguments ?? [], count)
        {
            _startDeadline = Stopwatch.GetTimestamp() + (long)(startTimeout.TotalSeconds * Stopwatch.Frequency),
        };
        try
        {
            var listening = Enumerable.Range(0, count).Select(i => workers.Launch(i, "127.0.0.1:0")).ToArray();
            var addresses = new string[count];
            for (int i = 0; i < count; i++)
            {
                if (!listening[i].Wait(startTimeout))
                {
                    var p = workers._processes[i];
                    throw new ClusterException(ClusterErrorCode.WorkerDown, $"a local worker did not start within {startTimeout.TotalSeconds:0} s (exit code {(p.HasExited ? p.ExitCode : "none yet")})");
                }

                addresses[i] = listening[i].Result;
            }

            workers.Addresses = addresses;
            for (int i = 0; i < count; i++) workers.Supervise(i);
            return workers;
        }
        catch
        {
            workers.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Connects <paramref name="coordinator"/> to every worker, in the order of <see cref="Addresses"/>. A worker that
    /// does not complete the handshake (its process still starting on a loaded machine: at load ~50, fresh workers missed
    /// the 10 s handshake in 2 of 3 runs of one test) is tried again while its process lives, until the start budget
    /// given to <see cref="Start"/> runs out; <paramref name="retrying"/> hears each failed attempt first.
    /// </summary>
    public Task<WorkerClient[]> ConnectAsync(ClusterCoordinator coordinator, Action<int, ClusterException>? retrying = null, CancellationToken cancellation = default) =>
        Task.WhenAll(Enumerable.Range(0, Addresses.Count).Select(i => ConnectAsync(coordinator, i, retrying, cancellation)));

    private async Task<WorkerClient> ConnectAsync(ClusterCoordinator coordinator, int index, Action<int, ClusterException>? retrying, CancellationToken cancellation)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        budget.CancelAfter(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _startDeadline) is { Ticks: > 0 } left ? left : TimeSpan.Zero);
        int attempts = 0;
        ClusterException? last = null;
        try
        {
            while (true)
            {
                attempts++;
                try
                {
                    return await coordinator.ConnectAsync(Addresses[index], budget.Token).ConfigureAwait(false);
                }
                catch (ClusterException e) when (e.Code is ClusterErrorCode.Timeout or ClusterErrorCode.WorkerDown && Lives(index))
                {
                    last = e;
                    retrying?.Invoke(index, e);
                    Console.Error.WriteLine($"tessera: local worker {index} at {Addresses[index]}: {e.Message}; trying again");
                    await Task.Delay(FirstBackoff, budget.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new ClusterException(ClusterErrorCode.Timeout, string.Create(CultureInfo.InvariantCulture, $"local worker {index} at {Addresses[index]} did not complete the handshake within the start budget ({attempts} attempts{(last is null ? "" : $"; last: {last.Message}")})"));
        }
    }

    private bool Lives(int index)
    {
        lock (_lock) return !_processes[index].HasExited;
    }

    /// <summary>The process id of worker <paramref name="index"/> as it runs now (tests signal it).</summary>
    internal int ProcessId(int index)
    {
        lock (_lock) return _processes[index].Id;
    }

    /// <summary>Starts worker <paramref name="index"/> listening on <paramref name="listen"/>; the task gives the address from its "listening on" line.</summary>
    private Task<string> Launch(int index, string listen)
    {
        var info = new ProcessStartInfo(_command[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in _command.Skip(1)) info.ArgumentList.Add(a);
        foreach (string a in (string[])["worker", "--listen", listen, "--token-file", _tokenFile, "--cache-dir", Path.Combine(_directory, "cache"), "--threads", _threads.ToString(CultureInfo.InvariantCulture), "--name", $"local-{index}", "--until-stdin-closes", .. _workerArguments])
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["TESSERA_LOG_LEVEL"] = "Warning";
        var process = Process.Start(info) ?? throw new ClusterException(ClusterErrorCode.Internal, "cannot start a worker process");
        var address = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            const string marker = "listening on ";
            if (e.Data is { } line && line.Contains(marker, StringComparison.Ordinal))
            {
                address.TrySetResult(line[(line.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].Trim());
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) Console.Error.WriteLine($"[worker {index}] {e.Data}");
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_lock)
        {
            _processes[index] = process;
        }

        return address.Task;
    }

    /// <summary>Watches worker <paramref name="index"/> until dispose, starting it again on its address whenever it dies.</summary>
    private void Supervise(int index) => _ = Task.Run(async () =>
    {
        var stopping = _stopping.Token;
        var backoff = FirstBackoff;
        try
        {
            while (true)
            {
                Process process;
                lock (_lock) process = _processes[index];
                var started = Stopwatch.StartNew();
                await process.WaitForExitAsync(stopping).ConfigureAwait(false);
                if (started.Elapsed >= Settled) backoff = FirstBackoff;
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tessera: local worker {index} at {Addresses[index]} exited (code {process.ExitCode}); starting it again in {backoff.TotalSeconds:0.##} s"));
                await Task.Delay(backoff, stopping).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LongestBackoff.Ticks));
                if (stopping.IsCancellationRequested) return;
                process.Dispose();
                _ = Launch(index, Addresses[index]);
            }
        }
        catch (OperationCanceledException)
        {
        }
    });

    /// <summary>CPU time (user and system) each worker process has used so far, in the order of <see cref="Addresses"/>.</summary>
    public TimeSpan[] ProcessorTimes()
    {
        lock (_lock)
        {
            var times = new TimeSpan[_processes.Length];
            for (int i = 0; i < times.Length; i++)
            {
                _processes[i].Refresh();
                times[i] = _processes[i].HasExited ? TimeSpan.Zero : _processes[i].TotalProcessorTime;
            }

            return times;
        }
    }

    public void Dispose()
    {
        Process[] processes;
        lock (_lock)
        {
            _stopping.Cancel();
            processes = [.. _processes.Where(p => p is not null)];
        }

        foreach (var p in processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
            }

            p.Dispose();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
