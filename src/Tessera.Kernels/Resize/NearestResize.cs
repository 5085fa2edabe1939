using System.Runtime.Intrinsics.X86;
using Tessera.Kernels.Core;
using Tessera.Kernels.Indexing;
using Tessera.Tensors;

namespace Tessera.Kernels.Resize;

/// <summary>
/// Nearest-neighbour resize of any rank and element type, by moving element words. Works per output row (last
/// axis): a row whose source row equals the previous row's is a copy of it (upsampling), otherwise a gather
/// through the precomputed column indices.
/// </summary>
internal static unsafe class NearestResize
{
    private const int ParallelBytes = 1 << 16;

    /// <param name="fill">A one-element tensor of the input's type holding the extrapolation value.</param>
    public static void Run(Tensor input, Tensor output, ResizePlan plan, Tensor fill, ParallelRunner parallel)
    {
        switch (TensorElements.KindOf(input.DataType))
        {
            case ElementKind.Size1: Run<byte>(input, output, plan, fill, parallel); break;
            case ElementKind.Size2: Run<ushort>(input, output, plan, fill, parallel); break;
            case ElementKind.Size4: Run<uint>(input, output, plan, fill, parallel); break;
            case ElementKind.Size8: Run<ulong>(input, output, plan, fill, parallel); break;
            default: throw new KernelException($"Resize does not support {DataTypes.Name(input.DataType)}");
        }
    }

    private static void Run<T>(Tensor input, Tensor output, ResizePlan plan, Tensor fillTensor, ParallelRunner parallel)
        where T : unmanaged
    {
        int outWidth = output.Shape[^1];
        int rows = output.Length / outWidth;
        var body = new Body<T>(input, output, plan, ((T*)fillTensor.Pointer)[0]);
        long bytes = (long)output.Length * sizeof(T);
        if (bytes < ParallelBytes || parallel.Degree == 1)
        {
            body.Invoke(0, rows);
        }
        else
        {
            parallel.ForRange(rows, Math.Max(1, (int)(ParallelBytes * (long)rows / bytes)), ref body);
        }
    }

    private readonly struct Body<T>(Tensor input, Tensor output, ResizePlan plan, T fill) : IRangeBody
        where T : unmanaged
    {
        public void Invoke(int start, int end)
        {
            AxisTaps[] taps = plan.Taps;
            int[] outShape = output.Shape;
            int[] inStrides = plan.InputStrides;
            int rank = outShape.Length;
            int outWidth = outShape[^1];
            T* src = (T*)input.Pointer;
            T* dst = (T*)output.Pointer;
            int[] columns = taps[^1].Index;
            bool[]? columnOutside = taps[^1].Outside;
            long previous = -2;
            for (int row = start; row < end; row++)
            {
                T* target = dst + (long)row * outWidth;
                long source = 0;
                int rest = row;
                for (int d = rank - 2; d >= 0 && source >= 0; d--)
                {
                    int o = rest % outShape[d];
                    rest /= outShape[d];
                    source = taps[d].Outside?[o] == true ? -1 : source + (long)taps[d].Index[o] * inStrides[d];
                }

                if (source < 0)
                {
                    new Span<T>(target, outWidth).Fill(fill);
                }
                else if (source == previous)
                {
                    Buffer.MemoryCopy(target - outWidth, target, (long)outWidth * sizeof(T), (long)outWidth * sizeof(T));
                }
                else
                {
                    GatherRow(src + source, columns, columnOutside, fill, target, outWidth);
                }

                previous = source;
            }

            // The raw pointers do not keep the tensors' storage alive on their own.
            GC.KeepAlive(input);
            GC.KeepAlive(output);
        }
    }

    private static void GatherRow<T>(T* source, int[] columns, bool[]? outside, T fill, T* target, int width) where T : unmanaged
    {
        int i = 0;
        fixed (int* index = columns)
        {
            if (outside is null && sizeof(T) == 4 && Avx2.IsSupported)
            {
                for (; i + 8 <= width; i += 8)
                {
                    var gathered = Avx2.GatherVector256((int*)source, Avx.LoadVector256(index + i), 4);
                    Avx.Store((int*)target + i, gathered);
                }
            }

            for (; i < width; i++)
            {
                target[i] = outside is not null && outside[i] ? fill : source[index[i]];
            }
        }
    }
}
