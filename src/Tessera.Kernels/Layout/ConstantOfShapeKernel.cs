using System.Runtime.InteropServices;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>ConstantOfShape-9: a tensor of the requested shape filled with the one-element 'value' (default float32 0).</summary>
internal sealed class ConstantOfShapeKernel(Tensor value) : IKernel
{
    public static IKernel Create(KernelInfo info)
    {
        var value = info.GetTensor("value") ?? Tensor.Scalar(0f);
        if (value.Length != 1)
        {
            throw new KernelException($"ConstantOfShape: value must hold one element, got shape {ShapeMath.Format(value.Shape)}");
        }

        return new ConstantOfShapeKernel(value);
    }

    public void Compute(KernelContext context)
    {
        long[] dims = IntList.Read(context.RequiredInput(0, "input"), "ConstantOfShape input");
        var shape = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            shape[i] = IntList.Dim(dims[i], "ConstantOfShape");
        }

        var output = context.AllocateOutput(0, value.DataType, shape);
        switch (ElementRef.WordSize(value.DataType))
        {
            case 1: Fill<byte>(output); break;
            case 2: Fill<ushort>(output); break;
            case 4: Fill<uint>(output); break;
            case 8: Fill<ulong>(output); break;
            default: Fill<string>(output); break;
        }
    }

    private void Fill<T>(Tensor output) =>
        MemoryMarshal.CreateSpan(ref ElementRef.Of<T>(output), output.Length).Fill(ElementRef.Of<T>(value));
}
