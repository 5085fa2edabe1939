using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>Input 11 "x_row_scale": X's rows with their factors still to be multiplied in (see the class summary).</summary>
internal sealed unsafe partial class QuantizedActivationsMatMulKernel
{
    // X with its row factors multiplied in, for an x_row_scale without a finite range (a row of NaN): kept from run to run.
    private float[] _normalized = [];

    // Input 11 "x_row_scale" when the node has it: one factor per row of X, whose rows must be contiguous.
    private static Tensor? RowFactors(KernelContext context, Tensor x, int k, int xRowStride)
    {
        if (context.Input(11) is not { } factors) return null;
        if (factors.DataType != DataType.Float32) throw new KernelException("QuantizedMatMul's x_row_scale must be float32");
        if (xRowStride != k) throw new KernelException("QuantizedMatMul reads x_row_scale only with X's rows contiguous (no x_perm moving its last axes)");
        if (factors.Length != x.Length / k) throw new KernelException($"QuantizedMatMul's x_row_scale must hold one value per row of X ({x.Length / k}), got {factors.Length}");
        return factors;
    }

    // X as the product reads it: X itself, or with x_row_scale and no finite x_range (the range pass must see the
    // normalised values) X's rows times their factors in a buffer, by the same multiply, as the softmax normalises them:
    // a causal row's +0 tail from x_kept on (input 10, per row of an m-row matrix) is left as it is.
    private float* Normalized(KernelContext context, Tensor x, Tensor? factors, int m, int k)
    {
        if (factors is null || FiniteRange(context) is not null) return (float*)x.Pointer;
        if (_normalized.Length < x.Length) _normalized = GC.AllocateUninitializedArray<float>(x.Length, pinned: true);
        var kept = context.Input(10) is { DataType: DataType.Int32 } xKept && xKept.Length == m ? xKept.Span<int>() : default;
        var from = x.Span<float>();
        var f = factors.Span<float>();
        for (int row = 0; row < f.Length; row++)
        {
            int length = kept.IsEmpty ? k : Math.Clamp(kept[row % m], 0, k);
            for (int j = 0; j < k; j++)
            {
                float v = from[(row * k) + j];
                _normalized[(row * k) + j] = j < length ? v * f[row] : v;
            }
        }

        fixed (float* to = _normalized)
        {
            // Pinned: the array is made with pinned: true, so the pointer stays valid after the fixed block.
            return to;
        }
    }

    // The rows' factors are multiplied in while packing when X was not normalised into the buffer (the range was given)
    // and X's zero point is 0, as a softmax's range (from 0) makes it.
    private static bool Scaled(Tensor? factors, float* px, Tensor x, int xZero)
    {
        if (factors is null || px != (float*)x.Pointer) return false;
        if (xZero != 0) throw new KernelException("QuantizedMatMul with x_row_scale needs X's range to start at 0 (zero point 0)");
        return true;
    }

    private static (float Least, float Most)? FiniteRange(KernelContext context) =>
        context.Input(8) is { DataType: DataType.Float32, Length: 2 } range && float.IsFinite(range.Span<float>()[0]) && float.IsFinite(range.Span<float>()[1])
            ? (range.Span<float>()[0], range.Span<float>()[1])
            : null;
}
