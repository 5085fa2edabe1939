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
        Span<long> scratch = stackalloc long[8];
        ReadOnlySpan<long> requested = shapeAttribute ?? IntList.Values(context.RequiredInput(1, "shape"), "Reshape shape", scratch);
        Span<int> shape = requested.Length <= 16 ? stackalloc int[requested.Length] : new int[requested.Length];
        Resolve(data.Shape, data.Length, requested, allowZero, shape);
        context.SetOutputView(0, data, 0, shape);
    }

    internal static int[] Resolve(int[] input, int length, long[] requested, bool allowZero)
    {
        var shape = new int[requested.Length];
        Resolve(input, length, requested, allowZero, shape);
        return shape;
    }

    internal static void Resolve(int[] input, int length, ReadOnlySpan<long> requested, bool allowZero, Span<int> shape)
    {
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < requested.Length; i++)
        {
            long d = requested[i];
            if (d == -1)
            {
                if (inferred >= 0)
                {
                    throw new KernelException($"Reshape: shape [{string.Join(",", requested.ToArray())}] has more than one -1");
                }

                inferred = i;
                continue;
            }

            if (d == 0 && !allowZero)
            {
                if (i >= input.Length)
                {
                    throw new KernelException($"Reshape: shape [{string.Join(",", requested.ToArray())}] copies dimension {i} of an input of rank {input.Length}");
                }

                d = input[i];
            }

            if (d < 0 || d > int.MaxValue)
            {
                throw new KernelException($"Reshape: invalid dimension {requested[i]} in shape [{string.Join(",", requested.ToArray())}]");
            }

            shape[i] = (int)d;
            known *= d;
            if (known > int.MaxValue)
            {
                throw new KernelException($"Reshape: shape [{string.Join(",", requested.ToArray())}] is too large");
            }
        }

        if (inferred >= 0)
        {
            if (known == 0 || length % known != 0)
            {
                throw new KernelException($"Reshape: cannot infer -1 in [{string.Join(",", requested.ToArray())}] for {length} elements of shape {ShapeMath.Format(input)}");
            }

            shape[inferred] = (int)(length / known);
        }
        else if (known != length)
        {
            throw new KernelException($"Reshape: cannot view {length} elements of shape {ShapeMath.Format(input)} as {ShapeMath.Format(shape)}");
        }

    }
}
