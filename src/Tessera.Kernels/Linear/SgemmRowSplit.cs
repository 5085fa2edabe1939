using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>
/// A parallel loop over A slivers where each thread runs the whole blocked product for its rows on its own: with B
/// pre-packed nothing is shared, so the threads never wait for each other until the end.
/// </summary>
internal readonly struct SgemmRowSplit(SgemmJob job) : IRangeBody
{
    public void Invoke(int start, int end) => job.RunRows(start * job.Config.Mr, Math.Min(end * job.Config.Mr, job.M));
}
