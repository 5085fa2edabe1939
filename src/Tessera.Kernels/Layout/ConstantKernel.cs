using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>
/// Constant-1/9/11/12/13: the tensor in 'value', or (opset 12) a scalar or 1-D tensor from value_float(s),
/// value_int(s) or value_string(s). Sparse values are not supported.
/// </summary>
internal sealed class ConstantKernel(Tensor value) : IKernel
{
    public static IKernel Create(KernelInfo info)
    {
        if (info.HasAttribute("sparse_value"))
        {
            throw new KernelException("Constant: sparse_value is not supported");
        }

        var candidates = new List<Tensor>(1);
        if (info.GetTensor("value") is { } tensor) candidates.Add(tensor);
        if (info.HasAttribute("value_float")) candidates.Add(Tensor.Scalar(info.GetFloat("value_float", 0)));
        if (info.GetFloats("value_floats") is { } floats) candidates.Add(Tensor.FromArray(floats, floats.Length));
        if (info.HasAttribute("value_int")) candidates.Add(Tensor.Scalar(info.GetInt("value_int", 0)));
        if (info.GetInts("value_ints") is { } ints) candidates.Add(Tensor.FromArray(ints, ints.Length));
        if (info.HasAttribute("value_string")) candidates.Add(Tensor.FromStrings([info.GetString("value_string", string.Empty)]));
        if (info.GetStrings("value_strings") is { } strings) candidates.Add(Tensor.FromStrings(strings, strings.Length));
        return candidates.Count switch
        {
            1 => new ConstantKernel(candidates[0]),
            0 => throw new KernelException("Constant needs one of value, value_float(s), value_int(s), value_string(s)"),
            _ => throw new KernelException("Constant must have exactly one value attribute"),
        };
    }

    public void Compute(KernelContext context) => context.SetOutput(0, value);
}
