using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// How a fused quantized kernel quantizes its float activations to uint8: with the constant scale and zero point
/// of a static (calibrated) model, or per computation from the tensor's range as DynamicQuantizeLinear does.
/// </summary>
internal sealed class ActivationQuantization
{
    private readonly float _scale;
    private readonly int _zeroPoint;

    private ActivationQuantization(bool dynamic, float scale, int zeroPoint)
    {
        IsDynamic = dynamic;
        _scale = scale;
        _zeroPoint = zeroPoint;
    }

    public bool IsDynamic { get; }

    /// <summary>Attribute dynamic=1: per computation; otherwise the constant per-tensor uint8 parameters of the given inputs.</summary>
    public static ActivationQuantization FromInputs(KernelInfo info, int scaleIndex, int zeroPointIndex)
    {
        if (info.GetInt("dynamic", 0) != 0)
        {
            return new ActivationQuantization(true, 0, 0);
        }

        if (info.ConstantInput(scaleIndex) is not { } scale)
        {
            throw new KernelException($"{info.OpType} needs a constant activation scale (or attribute dynamic=1)");
        }

        var zero = info.ConstantInput(zeroPointIndex);
        if (zero is not null && zero.DataType != DataType.UInt8)
        {
            throw new KernelException($"{info.OpType} quantizes activations to uint8, not {DataTypes.Name(zero.DataType)}");
        }

        return new ActivationQuantization(false, QLinearMatMulKernel.ScalarScale(scale, info.OpType + " activation scale"),
            QuantValues.Scalar(zero, info.OpType + " activation zero point"));
    }

    public unsafe (float Scale, int ZeroPoint) For(Tensor x, ParallelRunner parallel)
    {
        if (!IsDynamic) return (_scale, _zeroPoint);
        var parameters = DynamicQuantizeLinearKernel.Parameters((float*)x.Pointer, x.Length, parallel);
        GC.KeepAlive(x);
        return parameters;
    }
}
