using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// com.tessera QuantizedConv(X, x_scale, x_zero_point, W, w_scale, w_zero_point, bias?) → float32, with Conv's
/// attributes: X (float32) quantized to uint8 (constant parameters, or dynamic=1), convolved with a constant int8/uint8
/// W by the integer GEMM, and dequantized with x_scale · w_scale (per tensor or per output channel) plus the float bias
/// in the epilogue. The QDQ fusion pass makes it from Q → DQ → Conv(DQ(W), bias).
/// </summary>
internal sealed unsafe class QuantizedConvKernel : IKernel
{
    private readonly ActivationQuantization _activation;
    private readonly IntegerConv _conv;
    private readonly Tensor _w;
    private readonly int[] _bZero;
    private readonly float[] _wScale;
    private readonly float[]? _bias;
    private readonly float[] _scale;
    private Tensor? _quantized;

    public QuantizedConvKernel(KernelInfo info)
    {
        _activation = ActivationQuantization.FromInputs(info, 1, 2);
        _w = info.ConstantInput(3) is { DataType: DataType.UInt8 or DataType.Int8, Rank: >= 3 } w
            ? w
            : throw new KernelException("QuantizedConv needs a constant uint8 or int8 W");
        _conv = new IntegerConv(info, 3);
        int m = _w.Shape[0];
        var wScale = info.ConstantInput(4) ?? throw new KernelException("QuantizedConv needs a constant w_scale");
        _wScale = QuantValues.PerColumn(QuantValues.Floats(wScale, "QuantizedConv w_scale"), m, "QuantizedConv w_scale");
        _bZero = IntegerMatMul.BZeroPoints(_w, info.ConstantInput(5), m, "QuantizedConv");
        if (info.InputCount > 6 && info.ConstantInput(6) is { } bias)
        {
            _bias = bias.Length == m && bias.DataType == DataType.Float32 ? bias.ToArray<float>() : throw new KernelException($"QuantizedConv bias must be {m} float32 values");
        }

        _scale = new float[m];
    }

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "X");
        if (x.DataType != DataType.Float32)
        {
            throw new KernelException($"QuantizedConv X must be float32, got {DataTypes.Name(x.DataType)}");
        }

        if (_quantized is null || !ShapeMath.SameShape(_quantized.Shape, x.Shape))
        {
            _quantized = Tensor.Allocate(DataType.UInt8, x.Shape);
        }

        var (scale, zero) = _activation.For(x, context.Parallel);
        float* px = (float*)x.Pointer;
        byte* pq = _quantized.Pointer;
        context.Parallel.ForRange(x.Length, 1 << 14, (start, end) => Quantizer.Quantize(px + start, pq + start, end - start, scale, zero, 0, 255));
        var (geometry, shape) = _conv.Shape(_quantized, _w);
        var y = context.AllocateOutput(0, DataType.Float32, shape);
        if (y.Length == 0) return;
        for (int j = 0; j < _scale.Length; j++) _scale[j] = scale * _wScale[j];
        var output = new QgemmOutput
        {
            Kind = QgemmOutputKind.Float,
            Data = y.Pointer,
            AZero = zero,
            BZero = _bZero,
            ColumnSums = [],
            Scale = _scale,
            FloatBias = _bias,
        };

        _conv.Run(_quantized, _w, geometry, zero, output, sizeof(float), context.Parallel);
        GC.KeepAlive(x);
        GC.KeepAlive(y);
    }
}
