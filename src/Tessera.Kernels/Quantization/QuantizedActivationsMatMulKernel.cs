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
/// </summary>
internal sealed unsafe class QuantizedActivationsMatMulKernel : IKernel
{
    private static readonly int[] s_firstOffset = [0];
    private readonly QgemmPackedBatches _packed = new();
    private readonly FusedActivation _activation;
    private MatMulShape? _shape;
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
    }

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "X");
        var w = context.RequiredInput(3, "W");
        if (x.DataType != DataType.Float32 || w.DataType != DataType.Float32)
        {
            throw new KernelException($"QuantizedMatMul with an activation W takes float32 X and W, got {DataTypes.Name(x.DataType)} and {DataTypes.Name(w.DataType)}");
        }

        var s = _shape is not null && _shape.Matches(x.Shape, w.Shape) ? _shape : _shape = MatMulShape.Create(x.Shape, w.Shape);
        var y = context.AllocateOutput(0, DataType.Float32, s.OutputShape);
        if (y.Length == 0) return;
        int m = s.M, n = s.N, k = s.K;
        if (k == 0)
        {
            y.Bytes.Clear();
            return;
        }

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
        var rows = new QgemmFloatRows((float*)x.Pointer, k, xScale, xZero);
        var output = new QgemmOutput
        {
            Kind = QgemmOutputKind.Float,
            Data = y.Pointer,
            RowStride = n,
            ColStride = 1,
            AZero = xZero,
            BZero = _bZero,
            ColumnSums = [],
            K = k,
            Scale = _scale,
            Activation = _activation.IsNone ? null : _activation,
        };

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
}
