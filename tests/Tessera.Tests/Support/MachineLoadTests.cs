namespace Tessera.Tests.Support;

/// <summary>The crowding the liveness limits stretch by follows a load that has just begun, not a minute later.</summary>
public sealed class MachineLoadTests
{
    [Fact]
    public void TheLoadAverageAndTheRunnableThreadsAreReadFromProcLoadavg()
    {
        Assert.Equal(1.27, MachineLoad.LoadAverage("1.27 1.73 2.71 3/196 4593\n"));
        Assert.Equal(2, MachineLoad.Runnable("1.27 1.73 2.71 3/196 4593\n")); // less the reader
        Assert.Equal(11, MachineLoad.Runnable("0.00 0.00 0.00 12/1000 1\n"));
    }

    [Fact]
    public void ALoadThatJustBeganStretchesTheLimits()
    {
        Assert.True(File.Exists("/proc/loadavg"), "the runnable count is read from /proc/loadavg (Linux)");
        // Three busy threads per core, started now: the one-minute average has not moved yet, the runnable count has.
        using var stop = new CancellationTokenSource();
        var spinners = Enumerable.Range(0, 3 * Environment.ProcessorCount).Select(_ => new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
            }
        })
        { IsBackground = true }).ToArray();
        foreach (var t in spinners) t.Start();
        try
        {
            Thread.Sleep(20);
            double allowance = MachineLoad.Allowance;
            Assert.True(allowance >= 2, $"allowance {allowance} with {spinners.Length} busy threads on {Environment.ProcessorCount} cores ({File.ReadAllText("/proc/loadavg").Trim()})");
        }
        finally
        {
            stop.Cancel();
            foreach (var t in spinners) t.Join();
        }
    }
}
