using System.Diagnostics;
using Tessera.Cli.Common;

namespace Tessera.Cli.Bench;

/// <summary>
/// CPU time used over a timed window by this process and, when given a local cluster, by its worker processes: per
/// row it shows where a distributed run's cycles go (compute on the workers, framing and copies on both sides), which
/// throughput alone cannot tell apart from another process taking the cores.
/// </summary>
internal sealed class CpuWindow(LocalCluster? cluster = null)
{
    private TimeSpan _own;
    private TimeSpan[] _workers = [];

    public void Start()
    {
        _own = Process.GetCurrentProcess().TotalProcessorTime;
        _workers = cluster?.WorkerProcessorTimes() ?? [];
    }

    /// <summary>This process's CPU ms since <see cref="Start"/>, per row.</summary>
    public double OwnMsPer(int rows) => (Process.GetCurrentProcess().TotalProcessorTime - _own).TotalMilliseconds / Math.Max(1, rows);

    /// <summary>The workers' CPU ms together since <see cref="Start"/>, per row.</summary>
    public double WorkersMsPer(int rows)
    {
        var now = cluster?.WorkerProcessorTimes() ?? [];
        double ms = 0;
        for (int i = 0; i < Math.Min(now.Length, _workers.Length); i++)
        {
            ms += (now[i] - _workers[i]).TotalMilliseconds;
        }

        return ms / Math.Max(1, rows);
    }
}
