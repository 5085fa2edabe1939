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
/// A causal attention (the causal-attention pass): Q·Kᵀ takes the softmax's additive mask as input 9 "mask" and its
/// scale as attribute mask_scale, and writes output 1 "kept" (int32 [M]: each row's kept length, <see cref="MaskedTail"/>,
/// or N for every row when the skip is not provably exact), computing only the tiles those rows need (the rest of the
/// output is unspecified); P·V takes that output as input 10 "x_kept": X's row i is +0 from column kept[i] on, so with
/// X's zero point 0 its packed bytes are 0 there and the micro-kernel stops at each row tile's largest.
/// An optional input 11 "x_row_scale" (float32, one per row of X; FusedScaleMaskSoftmax's third output with normalize = 0)
/// says X's rows are not yet multiplied by their factors: each value is multiplied as it is quantized
/// (<see cref="QgemmScaledFloatRows"/>), the softmax's own multiply, so the bytes of the normalised X. X's rows must then
/// be contiguous (no x_perm); without a finite x_range X is normalised into a buffer first and takes the usual path.
/// </summary>
internal sealed unsafe partial class QuantizedActivationsMatMulKernel : IKernel
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
    private readonly float _maskScale;
    private int[] _keptShape = [];

    public QuantizedActivationsMatMulKernel(KernelInfo info)
    {
        if (info.GetInt("dynamic", 0) == 0)
        {
            throw new KernelException("QuantizedMatMul with a float W (an activation) quantizes both operands at run time and needs dynamic=1");
        }

        if ((info.InputCount > 6 && info.ConstantInput(6) is not null) || info.InputCount > 12)
        {
            throw new KernelException("QuantizedMatMul with a float W takes no bias and no sum");
        }

        _activation = FusedActivation.FromAttributes(info);
        _maskScale = info.GetFloat("mask_scale", 1f);
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
        var kept = Kept(context, m, n);
        if (Allocate(context, s.OutputShape, k) is not { } y) return;

        var factors = RowFactors(context, x, k, k);
        float* px = Normalized(context, x, factors, m, k);
        var (xScale, xZero, wScale, wZero) = Ranges(context, px, x.Length, w, n);
        var limits = s.FoldsIntoRows ? default : Limits(context, kept, m, n, k, xScale, xZero, wScale);
        var output = Epilogue(y.Pointer, n, xZero, k);
        if (Scaled(factors, px, x, xZero))
        {
            Multiply(context, s, w, new QgemmScaledFloatRows(px, (float*)factors!.Pointer, k, xScale, limits.Depth), output, limits, wScale, wZero);
        }
        else
        {
            Multiply(context, s, w, new QgemmFloatRows(px, k, xScale, xZero).WithZeroTails(limits.Depth), output, limits, wScale, wZero);
        }

        GC.KeepAlive(factors);
        GC.KeepAlive(x);
        GC.KeepAlive(w);
        GC.KeepAlive(y);
    }

    private void Multiply<TRows>(KernelContext context, MatMulShape s, Tensor w, TRows rows, QgemmOutput output, QgemmRowLimits limits, float wScale, int wZero)
        where TRows : struct, IQgemmBatchRows<TRows>
    {
        int m = s.M, n = s.N, k = s.K;
        float* pw = (float*)w.Pointer;
        if (s.FoldsIntoRows)
        {
            var packed = _packed.PackQuantized(pw + s.BOffsets[0], s_firstOffset, 1, k, n, wScale, wZero, context.Parallel)[0];
            Qgemm.Multiply(s.BatchCount * m, packed, rows, output with { ColumnSums = packed.ColumnSums }, context.Parallel);
        }
        else
        {
            var batches = _packed.PackQuantized(pw, s.BOffsets, s.BatchCount, k, n, wScale, wZero, context.Parallel);
            Qgemm.MultiplyBatches(m, batches, s.AOffsets, rows, output, (long)m * n * sizeof(float), null, limits, context.Parallel);
        }

        GC.KeepAlive(w);
    }

    // X and W as transposes of the tensors given, the result written transposed: offsets and strides, no copies.
    private void ComputePermuted(KernelContext context, Tensor x, Tensor w)
    {
        var s = _permuted is not null && _permuted.Matches(x.Shape, w.Shape) ? _permuted
            : _permuted = PermutedMatMulShape.Create(x.Shape, w.Shape, _xPerm ?? s_identity, _wPerm ?? s_identity, _yPerm ?? s_identity, sizeof(float));
        int m = s.M, n = s.N, k = s.K;
        var kept = Kept(context, m, n);
        if (Allocate(context, s.OutputShape, k) is not { } y) return;

        var factors = RowFactors(context, x, k, s.XRowStride);
        float* px = Normalized(context, x, factors, m, k);
        var (xScale, xZero, wScale, wZero) = Ranges(context, px, x.Length, w, n);
        var limits = Limits(context, kept, m, n, k, xScale, xZero, wScale);
        var output = Epilogue(y.Pointer, s.YRowStride, xZero, k);
        var batches = _packed.PackQuantized((float*)w.Pointer, w.Length, s.WOffsets, s.BatchCount, k, n, s.WRowStride, s.WColStride, wScale, wZero, context.Parallel);
        if (Scaled(factors, px, x, xZero))
        {
            var rows = new QgemmScaledFloatRows(px, (float*)factors!.Pointer, k, xScale, limits.Depth);
            Qgemm.MultiplyBatches(m, batches, s.XOffsets, rows, output, 0, s.YByteOffsets, limits, context.Parallel);
        }
        else
        {
            var rows = new QgemmFloatRows(px, k, s.XRowStride, xScale, xZero).WithZeroTails(limits.Depth);
            Qgemm.MultiplyBatches(m, batches, s.XOffsets, rows, output, 0, s.YByteOffsets, limits, context.Parallel);
        }

        GC.KeepAlive(factors);
        GC.KeepAlive(x);
        GC.KeepAlive(w);
        GC.KeepAlive(y);
    }

    // Output 1 "kept" when the node has it, every row's length N until the mask shows a skip is exact.
    private Tensor? Kept(KernelContext context, int m, int n)
    {
        if (context.OutputCount < 2) return null;
        if (_keptShape.Length != 1 || _keptShape[0] != m) _keptShape = [m];
        var kept = context.AllocateOutput(1, DataType.Int32, _keptShape);
        kept.Span<int>().Fill(n);
        return kept;
    }

    // What this product may leave out. Q·Kᵀ (input 9, the mask): the columns beyond each row's kept length, when every
    // score times the softmax's scale is provably within MaskedTail.Moderate (|a - za|, |b - zb| <= 255, so a score is at
    // most K·255²·x_scale·w_scale) and the mask [.., M, N] (leading axes 1) drops some row's tail; the kept lengths are
    // then written to output 1. P·V (input 10, those lengths): A's K beyond them, when X's zero point is 0 (P's masked
    // +0 then packs as byte 0).
    private QgemmRowLimits Limits(KernelContext context, Tensor? kept, int m, int n, int k, float xScale, int xZero, float wScale)
    {
        if (kept is not null && context.Input(9) is { } mask && _activation.IsNone)
        {
            if (mask.DataType != DataType.Float32) throw new KernelException("QuantizedMatMul's mask must be float32");
            double bound = (double)k * 255 * 255 * xScale * wScale * Math.Abs(_maskScale);
            if (bound <= MaskedTail.Moderate && IsRowsByColumns(mask.Shape, m, n)
                && MaskedTail.KeptLengths((float*)mask.Pointer, m, n, kept.Span<int>()))
            {
                GC.KeepAlive(mask);
                return new QgemmRowLimits { Columns = (int*)kept.Pointer };
            }

            kept.Span<int>().Fill(n);
        }

        if (context.Input(10) is { } xKept)
        {
            if (xKept.DataType != DataType.Int32 || xKept.Length != m) throw new KernelException($"QuantizedMatMul's x_kept must be int32 [{m}]");
            if (xZero == 0) return new QgemmRowLimits { Depth = (int*)xKept.Pointer };
        }

        return default;
    }

    private static bool IsRowsByColumns(int[] shape, int m, int n)
    {
        if (shape.Length < 2 || shape[^2] != m || shape[^1] != n) return false;
        for (int i = 0; i < shape.Length - 2; i++)
        {
            if (shape[i] != 1) return false;
        }

        return true;
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
    private (float XScale, int XZero, float WScale, int WZero) Ranges(KernelContext context, float* x, int xLength, Tensor w, int n)
    {
        if (context.Input(7) is not null) throw new KernelException("QuantizedMatMul with a float W takes no sum");
        var (xScale, xZero) = FiniteRange(context) is { } range
            ? DynamicQuantizeLinearKernel.FromRange(range.Least, range.Most)
            : DynamicQuantizeLinearKernel.Parameters(x, xLength, context.Parallel);
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
