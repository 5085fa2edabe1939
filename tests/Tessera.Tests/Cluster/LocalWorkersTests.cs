using System.Globalization;
using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Execution;
using Tessera.Cluster.Transport;
using Tessera.Tests.Serving;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cluster;

/// <summary>The local workers a CLI process starts end with it, even when it is killed and cannot stop them itself.</summary>
public sealed class LocalWorkersTests
{
    [Fact]
    public async Task LocalWorkersOfAKilledServeExit()
    {
        using var fx = new ClusterFixture();
        string path = fx.Save(ClusterFixture.Whole(16, 32, 5), "m.onnx");
        using var serve = new ServeProcess("--model", path, "--workers", "2", "--http", "127.0.0.1:0");
        await serve.WaitUntilListeningAsync();
        int[] pids = ChildPids(serve.Pid);
        // Each worker is known by its pid and start time: a pid freed by a worker that exited may be given to another
        // process (pid_max is 32768 here), which must neither count as the worker nor be killed below.
        var workers = pids.Select(pid => (Pid: pid, Started: StartTime(pid))).ToArray();
        bool IsRunning((int Pid, long? Started) worker) => worker.Started is not null && StartTime(worker.Pid) == worker.Started && IsRunningPid(worker.Pid);
        try
        {
            Assert.Equal(2, workers.Length);
            Assert.All(workers, worker => Assert.True(IsRunning(worker)));

            serve.KillAlone();

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (workers.Any(IsRunning) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.All(workers, worker => Assert.False(IsRunning(worker), $"local worker {worker.Pid} outlived its killed parent"));
        }
        finally
        {
            foreach (var worker in workers.Where(IsRunning))
            {
                System.Diagnostics.Process.GetProcessById(worker.Pid).Kill();
            }
        }
    }

    [Fact]
    public async Task AWorkerThatMissesTheHandshakeIsTriedAgainWhileItLives()
    {
        // A frozen worker (SIGSTOP, as a process the machine gives no time) misses a short handshake; once it runs again
        // the next attempt connects, within the start budget.
        using var workers = LocalWorkers.Start(1, 1, ["dotnet", Path.Combine(AppContext.BaseDirectory, "tessera.dll")], TimeSpan.FromSeconds(60));
        await using var coordinator = new ClusterCoordinator(workers.Token, new CoordinatorOptions { Limits = TransportLimits.Default with { HandshakeTimeout = TimeSpan.FromMilliseconds(500) } });
        int pid = workers.ProcessId(0);
        var missed = new TaskCompletionSource<ClusterException>(TaskCreationOptions.RunContinuationsAsynchronously);
        Signal("STOP", pid);
        try
        {
            var connecting = workers.ConnectAsync(coordinator, (_, e) => missed.TrySetResult(e));
            var miss = await missed.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(ClusterErrorCode.Timeout, miss.Code);
            Assert.False(connecting.IsCompleted);
            Signal("CONT", pid);
            var client = Assert.Single(await connecting.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.True(client.IsUp);
            Assert.Equal(workers.Addresses[0], client.Address);
        }
        finally
        {
            Signal("CONT", pid);
        }
    }

    private static void Signal(string name, int pid) => PosixSignal.Send(pid, name);

    /// <summary>The direct children of <paramref name="pid"/>: the processes whose /proc stat names it as parent.</summary>
    internal static int[] ChildPids(int pid) =>
        [.. Directory.GetDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => name!.All(char.IsAsciiDigit))
            .Select(name => int.Parse(name!, CultureInfo.InvariantCulture))
            .Where(p => ProcStat.Of(p) is { } stat && int.Parse(stat[1], CultureInfo.InvariantCulture) == pid)];

    /// <summary>Whether the process exists and is not a zombie (exited, waiting to be reaped by its new parent).</summary>
    private static bool IsRunningPid(int pid) => ProcStat.Of(pid) is { } stat && stat[0] != "Z";

    /// <summary>When the process started (clock ticks after boot, stat field 22), or null when it is gone.</summary>
    private static long? StartTime(int pid) =>
        ProcStat.Of(pid) is { } stat ? long.Parse(stat[22 - 3], CultureInfo.InvariantCulture) : null;
}
