using Tessera.Kernels.Core;
using Tessera.Kernels.Linear;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// QuantizeLinear (opsets 10, 13 and 19): y = saturate(round(x / y_scale) + y_zero_point), per tensor or (13 on) per
/// index of `axis`. x is float32, float16, bfloat16 or int32; y is uint8 (no zero point given) or the zero point's
/// uint8/int8. The float8 types of opset 19 and the blocks of opset 21 are refused.
/// </summary>
internal sealed unsafe class QuantizeLinearKernel : IKernel
{
    private readonly long _axis;
    private readonly DataType? _outputType;

    public QuantizeLinearKernel(KernelInfo info)
    {
        _axis = info.OpsetVersion >= 13 ? info.GetInt("axis", 1) : 1;
        if (info.GetInt("block_size", 0) != 0)
        {
            throw new KernelException("QuantizeLinear with block_size (blocked quantization) is not supported");
        }

        if (info.HasAttribute("output_dtype") && info.GetInt("output_dtype", 0) != 0)
        {
            _outputType = (DataType)info.GetInt("output_dtype", 0);
        }
    }

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0, "x");
        var scale = context.RequiredInput(1, "y_scale");
        var zeroPoint = context.Input(2);
        var type = zeroPoint?.DataType ?? _outputType ?? DataType.UInt8;
        var (min, max) = QuantValues.Range(type);
        var axis = QuantAxis.Resolve("QuantizeLinear", x.Shape, scale, zeroPoint, _axis);
        var y = context.AllocateOutput(0, type, x.Shape);
        if (y.Length == 0) return;

        var source = x.DataType switch
        {
            DataType.Float32 => x,
            DataType.Float16 or DataType.BFloat16 => FloatStaging.Widen(x)!,
            DataType.Int32 => null,
            _ => throw new KernelException($"QuantizeLinear does not take {DataTypes.Name(x.DataType)} input"),
        };

        byte* py = y.Pointer;
        int inner = axis.Inner;
        if (source is null)
        {
            int* pi = (int*)x.Pointer;
            for (int o = 0, i = 0; o < axis.Outer; o++)
            {
                for (int c = 0; c < axis.Channels; c++)
                {
                    for (int e = 0; e < inner; e++, i++)
                    {
                        py[i] = (byte)Quantizer.QuantizeOne(pi[i], axis.Scales[c], axis.ZeroPoints[c], min, max);
                    }
                }
            }

            return;
        }

        float* px = (float*)source.Pointer;
        if (axis.Channels == 1)
        {
            context.Parallel.ForRange(y.Length, 1 << 14, (start, end) =>
                Quantizer.Quantize(px + start, py + start, end - start, axis.Scales[0], axis.ZeroPoints[0], min, max));
        }
        else
        {
            for (int o = 0; o < axis.Outer; o++)
            {
                for (int c = 0; c < axis.Channels; c++)
                {
                    long offset = ((long)o * axis.Channels + c) * inner;
                    Quantizer.Quantize(px + offset, py + offset, inner, axis.Scales[c], axis.ZeroPoints[c], min, max);
                }
            }
        }

        GC.KeepAlive(source);
        GC.KeepAlive(x);
        GC.KeepAlive(y);
    }
}
