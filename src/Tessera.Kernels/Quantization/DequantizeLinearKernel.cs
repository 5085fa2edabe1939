using Tessera.Kernels.Core;
using Tessera.Kernels.Linear;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// DequantizeLinear (opsets 10, 13 and 19): y = (x - x_zero_point) * x_scale, per tensor or (13 on) per index of
/// `axis`. x is uint8, int8 or int32 (whose zero point must be 0); y has the scale's type (float32, or from opset 19
/// float16/bfloat16, computed in float32 and rounded once).
/// </summary>
internal sealed unsafe class DequantizeLinearKernel : IKernel
{
    private readonly long _axis;

    public DequantizeLinearKernel(KernelInfo info)
    {
        _axis = info.OpsetVersion >= 13 ? info.GetInt("axis", 1) : 1;
        if (info.GetInt("block_size", 0) != 0)
        {
            throw new KernelException("DequantizeLinear with block_size (blocked quantization) is not supported");
        }
    }

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "x");
        var scale = context.RequiredInput(1, "x_scale");
        var zeroPoint = context.Input(2);
        if (zeroPoint is not null && zeroPoint.DataType != x.DataType)
        {
            throw new KernelException($"DequantizeLinear x is {DataTypes.Name(x.DataType)} but its zero point is {DataTypes.Name(zeroPoint.DataType)}");
        }

        if (x.DataType is not (DataType.UInt8 or DataType.Int8 or DataType.Int32))
        {
            throw new KernelException($"DequantizeLinear does not take {DataTypes.Name(x.DataType)} input");
        }

        var axis = QuantAxis.Resolve("DequantizeLinear", x.Shape, scale, zeroPoint, _axis);
        if (x.DataType == DataType.Int32 && axis.ZeroPoints.Any(z => z != 0))
        {
            throw new KernelException("DequantizeLinear of int32 needs a zero point of 0");
        }

        var y = context.AllocateOutput(0, scale.DataType, x.Shape);
        if (y.Length == 0) return;
        var wide = scale.DataType == DataType.Float32 ? y : Tensor.Allocate(DataType.Float32, x.Shape);
        float* py = (float*)wide.Pointer;
        byte* px = x.Pointer;
        var type = x.DataType;
        int inner = axis.Inner;
        context.Parallel.ForRange(axis.Outer * axis.Channels, Math.Max(1, (1 << 14) / Math.Max(1, inner)), (start, end) =>
        {
            for (int row = start; row < end; row++)
            {
                int c = row % axis.Channels;
                Dequantize(type, px, py, (long)row * inner, inner, axis.Scales[c], axis.ZeroPoints[c]);
            }
        });

        if (!ReferenceEquals(wide, y)) FloatStaging.Narrow(wide, y);
        GC.KeepAlive(x);
        GC.KeepAlive(wide);
    }

    private static void Dequantize(DataType type, byte* x, float* y, long offset, int count, float scale, int zeroPoint)
    {
        y += offset;
        switch (type)
        {
            case DataType.UInt8:
                for (int i = 0; i < count; i++) y[i] = (x[offset + i] - zeroPoint) * scale;
                break;
            case DataType.Int8:
                var s = (sbyte*)x + offset;
                for (int i = 0; i < count; i++) y[i] = (s[i] - zeroPoint) * scale;
                break;
            default:
                var n = (int*)x + offset;
                for (int i = 0; i < count; i++) y[i] = n[i] * scale;
                break;
        }
    }
}
