using Tessera.Kernels.Core;

namespace Tessera.Kernels.Linear;

/// <summary>Packs a range of the panels of one shared B block (a parallel loop body).</summary>
internal readonly unsafe struct SgemmPackBBody(SgemmStep step, float* bBlock, int jc, int nc) : IRangeBody
{
    public void Invoke(int start, int end) => step.PackB(bBlock, jc, nc, start, end);
}
