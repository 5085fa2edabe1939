using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;
using Tessera.Kernels.Linear;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// com.tessera QuantizedMatMul(X, , , W, , , , dynamic=1) with W a float32 activation rather than a constant integer
/// weight (attention's Q·Kᵀ and P·V): both operands quantized to uint8 per tensor from their ranges at run time, as
/// DynamicQuantizeLinear does, X while the GEMM packs its rows and W (one K x N matrix per batch, numpy batch rules)
/// into packed buffers kept from run to run; the exact int32 product times x_scale · w_scale in the epilogue. The
/// same values as DynamicQuantizeLinear → MatMulInteger → Cast → Mul, which the fusion pass makes it from. An optional
/// input 8 "x_range" (float32 [2]: min(0, min X), max(0, max X), from the operator that made X, e.g.
/// FusedScaleMaskSoftmax's second output) replaces the pass over X that finds them; a non-finite one is ignored.
/// Attributes x_perm, w_perm, y_perm (rank 4, see <see cref="PermutedMatMulShape"/>) read X and W as the transposes
/// of the tensors given and write the result transposed, so an attention's heads need no Transpose copies.
/// </summary>
internal sealed unsafe class QuantizedActivationsMatMulKernel : IKernel
{
    private static readonly int[] s_firstOffset = [0];
    private readonly QgemmPackedBatches _packed = new();
    private readonly FusedActivation _activation;
    private static readonly long[] s_identity = [0, 1, 2, 3];
    private readonly long[]? _xPerm;
    private readonly long[]? _wPerm;
    private readonly long[]? _yPerm;
    private MatMulShape? _shape;
    private PermutedMatMulShape? _permuted;
    private float[] _scale = [];
    private int[] _bZero = [];

    public QuantizedActivationsMatMulKernel(KernelInfo info)
    {
        if (info.GetInt("dynamic", 0) == 0)
        {
            throw new KernelException("QuantizedMatMul with a float W (an activation) quantizes both operands at run time and needs dynamic=1");
        }

        if ((info.InputCount > 6 && info.ConstantInput(6) is not null) || info.InputCount > 9)
        {
            throw new KernelException("QuantizedMatMul with a float W takes no bias and no sum");
        }

        _activation = FusedActivation.FromAttributes(info);
        _xPerm = info.GetInts("x_perm");
        _wPerm = info.GetInts("w_perm");
        _yPerm = info.GetInts("y_perm");
        if ((_xPerm ?? _wPerm ?? _yPerm) is not null && !PermutedMatMulShape.Accepts(_xPerm ?? s_identity, _wPerm ?? s_identity, _yPerm ?? s_identity))
        {
            throw new KernelException("QuantizedMatMul reads x_perm and y_perm of rank 4 with the last axis last, and w_perm with the last axis last or second to last");
        }
    }

    private bool Permuted => (_xPerm ?? _wPerm ?? _yPerm) is not null;

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "X");
        var w = context.RequiredInput(3, "W");
        if (x.DataType != DataType.Float32 || w.DataType != DataType.Float32)
        {
            throw new KernelException($"QuantizedMatMul with an activation W takes float32 X and W, got {DataTypes.Name(x.DataType)} and {DataTypes.Name(w.DataType)}");
        }

        if (Permuted)
        {
            ComputePermuted(context, x, w);
            return;
        }

        var s = _shape is not null && _shape.Matches(x.Shape, w.Shape) ? _shape : _shape = MatMulShape.Create(x.Shape, w.Shape);
        int m = s.M, n = s.N, k = s.K;
        if (Allocate(context, s.OutputShape, k) is not { } y) return;

        var (xScale, xZero, wScale, wZero) = Ranges(context, x, w, n);
        var rows = new QgemmFloatRows((float*)x.Pointer, k, xScale, xZero);
        var output = Epilogue(y.Pointer, n, xZero, k);

        float* pw = (float*)w.Pointer;
        if (s.FoldsIntoRows)
        {
            var packed = _packed.PackQuantized(pw + s.BOffsets[0], s_firstOffset, 1, k, n, wScale, wZero, context.Parallel)[0];
            Qgemm.Multiply(s.BatchCount * m, packed, rows, output with { ColumnSums = packed.ColumnSums }, context.Parallel);
        }
        else
        {
            var batches = _packed.PackQuantized(pw, s.BOffsets, s.BatchCount, k, n, wScale, wZero, context.Parallel);
            Qgemm.MultiplyBatches(m, batches, s.AOffsets, rows, output, (long)m * n * sizeof(float), context.Parallel);
        }

        GC.KeepAlive(x);
        GC.KeepAlive(w);
        GC.KeepAlive(y);
    }

    // X and W as transposes of the tensors given, the result written transposed: offsets and strides, no copies.
    private void ComputePermuted(KernelContext context, Tensor x, Tensor w)
    {
        var s = _permuted is not null && _permuted.Matches(x.Shape, w.Shape) ? _permuted
            : _permuted = PermutedMatMulShape.Create(x.Shape, w.Shape, _xPerm ?? s_identity, _wPerm ?? s_identity, _yPerm ?? s_identity, sizeof(float));
        int m = s.M, n = s.N, k = s.K;
        if (Allocate(context, s.OutputShape, k) is not { } y) return;

        var (xScale, xZero, wScale, wZero) = Ranges(context, x, w, n);
        var rows = new QgemmFloatRows((float*)x.Pointer, k, s.XRowStride, xScale, xZero);
        var output = Epilogue(y.Pointer, s.YRowStride, xZero, k);
        var batches = _packed.PackQuantized((float*)w.Pointer, w.Length, s.WOffsets, s.BatchCount, k, n, s.WRowStride, s.WColStride, wScale, wZero, context.Parallel);
        Qgemm.MultiplyBatches(m, batches, s.XOffsets, rows, output, s.YByteOffsets, context.Parallel);
        GC.KeepAlive(x);
        GC.KeepAlive(w);
        GC.KeepAlive(y);
    }

    // The output, or null when there is nothing to multiply: no elements, or K = 0 (a sum of nothing, zeros written).
    private static Tensor? Allocate(KernelContext context, int[] shape, int k)
    {
        var y = context.AllocateOutput(0, DataType.Float32, shape);
        if (y.Length == 0) return null;
        if (k > 0) return y;
        y.Bytes.Clear();
        return null;
    }

    // Both operands' scales and zero points (X's from input 8 when given), and the epilogue's per-column scale and B
    // zero point filled from them. A transposed view has the same values, so the same ranges.
    private (float XScale, int XZero, float WScale, int WZero) Ranges(KernelContext context, Tensor x, Tensor w, int n)
    {
        if (context.Input(7) is not null) throw new KernelException("QuantizedMatMul with a float W takes no sum");
        var (xScale, xZero) = context.Input(8) is { DataType: DataType.Float32, Length: 2 } range && float.IsFinite(range.Span<float>()[0]) && float.IsFinite(range.Span<float>()[1])
            ? DynamicQuantizeLinearKernel.FromRange(range.Span<float>()[0], range.Span<float>()[1])
            : DynamicQuantizeLinearKernel.Parameters((float*)x.Pointer, x.Length, context.Parallel);
        var (wScale, wZero) = DynamicQuantizeLinearKernel.Parameters((float*)w.Pointer, w.Length, context.Parallel);
        if (_scale.Length != n)
        {
            _scale = new float[n];
            _bZero = new int[n];
        }

        // One multiply, as Mul(x_scale, w_scale) makes the scale the chain's Cast → Mul applies.
        _scale.AsSpan().Fill(xScale * wScale);
        _bZero.AsSpan().Fill(wZero + QgemmPackedB.Shift(signed: false));
        return (xScale, xZero, wScale, wZero);
    }

    private QgemmOutput Epilogue(byte* y, int rowStride, int xZero, int k) => new()
    {
        Kind = QgemmOutputKind.Float,
        Data = y,
        RowStride = rowStride,
        ColStride = 1,
        AZero = xZero,
        BZero = _bZero,
        ColumnSums = [],
        K = k,
        Scale = _scale,
        Activation = _activation.IsNone ? null : _activation,
    };
}
