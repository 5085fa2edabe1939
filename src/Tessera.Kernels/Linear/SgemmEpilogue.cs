using System.Numerics.Tensors;
using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Linear;

/// <summary>
/// What a GEMM applies to each finished tile of C while it is still in L1: a bias per row (convolution channels) or
/// per column (fully-connected outputs), then an activation. Row and column indices are those of the whole C.
/// </summary>
internal readonly unsafe struct SgemmEpilogue(float* rowBias, float* columnBias, FusedActivation? activation)
{
    public static SgemmEpilogue None => default;

    public bool IsNone => rowBias == null && columnBias == null && (activation is null || activation.IsNone);

    /// <summary>Applies the epilogue to c[rows x cols] (leading dimension ldc), whose first element is C[row0, col0].</summary>
    public void Apply(float* c, nint ldc, int row0, int col0, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = new Span<float>(c + r * ldc, cols);
            if (rowBias != null)
            {
                TensorPrimitives.Add(row, rowBias[row0 + r], row);
            }

            if (columnBias != null)
            {
                TensorPrimitives.Add(row, new ReadOnlySpan<float>(columnBias + col0, cols), row);
            }

            activation?.Apply(row);
        }
    }
}
