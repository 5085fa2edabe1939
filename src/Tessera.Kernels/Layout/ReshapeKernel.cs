using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>Reshape-1 (shape attribute), 5/13 (shape input) and 14 (allowzero). Always a view of the input.</summary>
internal sealed class ReshapeKernel(long[]? shapeAttribute, bool allowZero) : IKernel
{
    public static IKernel Create(KernelInfo info)
    {
        long[]? shape = null;
        if (info.OpsetVersion < 5)
        {
            shape = info.GetInts("shape") ?? throw new KernelException("Reshape needs attribute 'shape'");
        }

        return new ReshapeKernel(shape, info.OpsetVersion >= 14 && info.GetInt("allowzero", 0) != 0);
    }

    public void Compute(KernelContext context)
    {
        var data = context.RequiredInput(0, "data");
        long[] requested = shapeAttribute ?? IntList.Read(context.RequiredInput(1, "shape"), "Reshape shape");
        context.SetOutput(0, data.Reshape(Resolve(data.Shape, data.Length, requested, allowZero)));
    }

    internal static int[] Resolve(int[] input, int length, long[] requested, bool allowZero)
    {
        var shape = new int[requested.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < requested.Length; i++)
        {
            long d = requested[i];
            if (d == -1)
            {
                if (inferred >= 0)
                {
                    throw new KernelException($"Reshape: shape [{string.Join(",", requested)}] has more than one -1");
                }

                inferred = i;
                continue;
            }

            if (d == 0 && !allowZero)
            {
                if (i >= input.Length)
                {
                    throw new KernelException($"Reshape: shape [{string.Join(",", requested)}] copies dimension {i} of an input of rank {input.Length}");
                }

                d = input[i];
            }

            if (d < 0 || d > int.MaxValue)
            {
                throw new KernelException($"Reshape: invalid dimension {requested[i]} in shape [{string.Join(",", requested)}]");
            }

            shape[i] = (int)d;
            known *= d;
            if (known > int.MaxValue)
            {
                throw new KernelException($"Reshape: shape [{string.Join(",", requested)}] is too large");
            }
        }

        if (inferred >= 0)
        {
            if (known == 0 || length % known != 0)
            {
                throw new KernelException($"Reshape: cannot infer -1 in [{string.Join(",", requested)}] for {length} elements of shape {ShapeMath.Format(input)}");
            }

            shape[inferred] = (int)(length / known);
        }
        else if (known != length)
        {
            throw new KernelException($"Reshape: cannot view {length} elements of shape {ShapeMath.Format(input)} as {ShapeMath.Format(shape)}");
        }

        return shape;
    }
}
