using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// com.tessera QuantizedMatMul(X, x_scale, x_zero_point, W, w_scale, w_zero_point, bias?) → float32: X (float32, any
/// rank) times a constant 2-D int8/uint8 W, with X quantized to uint8 while the GEMM packs it (statically with the
/// given constant parameters, or with attribute dynamic=1 from X's range each time) and the exact int32 product
/// dequantized with x_scale · w_scale (per tensor or per column) plus the float bias in the epilogue. Graph passes
/// make it from DynamicQuantizeLinear → MatMulInteger → Cast → Mul and from Q → DQ → MatMul(DQ(W)) [+ bias]; the
/// activation fusion pass may add an `activation` (as on FusedMatMul), applied to the finished rows.
/// </summary>
internal sealed unsafe class QuantizedMatMulKernel : IKernel
{
    private readonly ActivationQuantization _activation;
    private readonly QgemmPackedB _packed;
    private readonly int[] _bZero;
    private readonly float[] _wScale;
    private readonly float[]? _bias;
    private readonly float[] _scale;
    private readonly FusedActivation _fusedActivation;
    private int[] _outputShape = [];

    public QuantizedMatMulKernel(KernelInfo info)
    {
        _activation = ActivationQuantization.FromInputs(info, 1, 2);
        if (info.ConstantInput(3) is not { Rank: 2, DataType: DataType.UInt8 or DataType.Int8 } w)
        {
            throw new KernelException("QuantizedMatMul needs a constant 2-D uint8 or int8 W");
        }

        int n = w.Shape[1];
        _packed = QgemmPackedB.Pack(QgemmConfig.Current, w.Pointer, w.Shape[0], n, n, 1, w.DataType == DataType.Int8);
        GC.KeepAlive(w);
        var wScale = info.ConstantInput(4) ?? throw new KernelException("QuantizedMatMul needs a constant w_scale");
        _wScale = QuantValues.PerColumn(QuantValues.Floats(wScale, "QuantizedMatMul w_scale"), n, "QuantizedMatMul w_scale");
        _bZero = IntegerMatMul.BZeroPoints(w, info.ConstantInput(5), n, "QuantizedMatMul");
        if (info.InputCount > 6 && info.ConstantInput(6) is { } bias)
        {
            _bias = bias.Length == n && bias.DataType == DataType.Float32 ? bias.ToArray<float>() : throw new KernelException($"QuantizedMatMul bias must be {n} float32 values");
        }

        _scale = new float[n];
        _fusedActivation = FusedActivation.FromAttributes(info);
    }

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "X");
        int k = _packed.K, n = _packed.N;
        if (x.DataType != DataType.Float32 || x.Rank == 0 || x.Shape[^1] != k)
        {
            throw new KernelException($"QuantizedMatMul X must be float32 [..., {k}], got {x}");
        }

        if (_outputShape.Length != x.Rank || !x.Shape.AsSpan(0, x.Rank - 1).SequenceEqual(_outputShape.AsSpan(0, x.Rank - 1)))
        {
            _outputShape = [.. x.Shape[..^1], n];
        }

        var y = context.AllocateOutput(0, DataType.Float32, _outputShape);
        if (y.Length == 0) return;
        var (scale, zero) = _activation.For(x, context.Parallel);
        for (int j = 0; j < n; j++) _scale[j] = scale * _wScale[j];
        var output = new QgemmOutput
        {
            Kind = QgemmOutputKind.Float,
            Data = y.Pointer,
            RowStride = n,
            ColStride = 1,
            AZero = zero,
            BZero = _bZero,
            ColumnSums = _packed.ColumnSums,
            K = k,
            Scale = _scale,
            FloatBias = _bias,
            Activation = _fusedActivation.IsNone ? null : _fusedActivation,
        };

        int m = x.Length / Math.Max(1, k);
        Qgemm.Multiply(m, _packed, new QgemmFloatRows((float*)x.Pointer, k, scale, zero), output, context.Parallel);

        GC.KeepAlive(x);
        GC.KeepAlive(y);
    }
}
