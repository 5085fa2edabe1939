using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>Concat-1/4/11/13: joins inputs along an axis (default 1 before opset 4, negative from 11), copying contiguous runs.</summary>
internal sealed class ConcatKernel(long axis) : IKernel
{
    public static IKernel Create(KernelInfo info)
    {
        long axis = info.OpsetVersion < 4 ? info.GetInt("axis", 1) : info.GetRequiredInt("axis");
        return new ConcatKernel(axis);
    }

    private Tensor[] _sources = [];
    private int[] _chunks = [];
    private int[] _shape = [];

    public void Compute(KernelContext context)
    {
        // Buffers kept by the kernel (never computed concurrently with itself) so that a run allocates nothing.
        if (_sources.Length != context.InputCount)
        {
            _sources = new Tensor[context.InputCount];
            _chunks = new int[context.InputCount];
        }

        var inputs = _sources;
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = context.Input(i) ?? throw new KernelException($"Concat: input {i} is missing");
        }

        if (inputs.Length == 0)
        {
            throw new KernelException("Concat needs at least one input");
        }

        var firstInput = inputs[0];
        int rank = firstInput.Rank;
        if (rank == 0)
        {
            throw new KernelException("Concat: inputs must have rank 1 or more");
        }

        int ax = IntList.Axis(axis, rank, "Concat");
        if (_shape.Length != rank)
        {
            _shape = new int[rank];
        }

        var shape = _shape;
        firstInput.Shape.CopyTo(shape, 0);
        shape[ax] = 0;
        foreach (var t in inputs)
        {
            if (t.DataType != firstInput.DataType || t.Rank != rank)
            {
                throw new KernelException($"Concat: input {t} does not match {firstInput}");
            }

            for (int k = 0; k < rank; k++)
            {
                if (k != ax && t.Shape[k] != firstInput.Shape[k])
                {
                    throw new KernelException($"Concat: shapes {ShapeMath.Format(firstInput.Shape)} and {ShapeMath.Format(t.Shape)} differ outside axis {ax}");
                }
            }

            shape[ax] = checked(shape[ax] + t.Shape[ax]);
        }

        if (inputs.Length == 1)
        {
            context.SetOutput(0, firstInput);
            Array.Clear(inputs);
            return;
        }

        var output = context.AllocateOutput(0, firstInput.DataType, shape);
        int outer = ShapeMath.Product(shape, 0, ax);
        int inner = ShapeMath.Product(shape, ax + 1, rank);
        var chunks = _chunks;
        for (int i = 0; i < chunks.Length; i++)
        {
            chunks[i] = inputs[i].Shape[ax] * inner;
        }

        var sources = inputs;
        switch (ElementRef.WordSize(output.DataType))
        {
            case 1: Run<byte>(sources, chunks, output, outer, context.Parallel); break;
            case 2: Run<ushort>(sources, chunks, output, outer, context.Parallel); break;
            case 4: Run<uint>(sources, chunks, output, outer, context.Parallel); break;
            case 8: Run<ulong>(sources, chunks, output, outer, context.Parallel); break;
            default: Run<string>(sources, chunks, output, outer, context.Parallel); break;
        }

        Array.Clear(sources); // do not keep this run's inputs alive
    }

    private static void Run<T>(Tensor[] sources, int[] chunks, Tensor output, int outer, ParallelRunner parallel)
    {
        int row = output.Length / Math.Max(1, outer);
        if (row == 0)
        {
            return;
        }

        int wordBytes = typeof(T) == typeof(string) ? 8 : Unsafe.SizeOf<T>();
        int minRows = (int)Math.Max(1, StridedCopy.ParallelBytes / ((long)row * wordBytes));
        if (outer < 2 * minRows || parallel.Degree == 1)
        {
            CopyRows<T>(sources, chunks, output, 0, outer);
            return;
        }

        var body = new Body<T>(sources, chunks, output);
        parallel.ForRange(outer, minRows, ref body);
    }

    private static void CopyRows<T>(Tensor[] sources, int[] chunks, Tensor output, int r0, int r1)
    {
        ref T dst = ref ElementRef.Of<T>(output);
        int row = 0;
        foreach (int n in chunks)
        {
            row += n;
        }

        nint at = (nint)r0 * row;
        for (int r = r0; r < r1; r++)
        {
            for (int i = 0; i < sources.Length; i++)
            {
                int n = chunks[i];
                ref T src = ref Unsafe.Add(ref ElementRef.Of<T>(sources[i]), (nint)r * n);
                MemoryMarshal.CreateReadOnlySpan(ref src, n).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref dst, at), n));
                at += n;
            }
        }
    }

    private readonly struct Body<T>(Tensor[] sources, int[] chunks, Tensor output) : IRangeBody
    {
        public void Invoke(int start, int end) => CopyRows<T>(sources, chunks, output, start, end);
    }
}
