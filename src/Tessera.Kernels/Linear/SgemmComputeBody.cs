using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>
/// Task t of <paramref name="tasks"/> against one shared B block: its share of the A slivers (packing them first
/// when asked) or, when the slivers are too few to split, its share of the B panels.
/// </summary>
internal readonly unsafe struct SgemmComputeBody(SgemmStep step, float* aBlock, float* bBlock, int jc, int nc, int slivers, int panels,
    int tasks, bool splitSlivers, bool packA) : IRangeBody
{
    public void Invoke(int start, int end)
    {
        for (int t = start; t < end; t++)
        {
            if (splitSlivers)
            {
                int s0 = (int)((long)slivers * t / tasks), s1 = (int)((long)slivers * (t + 1) / tasks);
                if (packA)
                {
                    step.PackA(aBlock, s0, s1);
                }

                step.Compute(aBlock, bBlock, jc, nc, s0, s1, 0, panels);
            }
            else
            {
                int p0 = (int)((long)panels * t / tasks), p1 = (int)((long)panels * (t + 1) / tasks);
                step.Compute(aBlock, bBlock, jc, nc, 0, slivers, p0, p1);
            }
        }
    }
}
