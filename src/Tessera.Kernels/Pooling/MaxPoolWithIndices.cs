using System.Numerics;
using System.Runtime.CompilerServices;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Pooling;

/// <summary>
/// Max pooling that also records where each maximum came from (MaxPool's optional Indices output). Only used
/// when Indices is consumed, so it stays a plain scan; the first of equal maxima wins, as in ONNX Runtime.
/// </summary>
internal static unsafe class MaxPoolWithIndices
{
    /// <param name="columnMajor">storage_order 1: indices count the spatial dimensions column-major.</param>
    public static void Run<T>(ParallelRunner parallel, PoolGeometry g, Tensor input, Tensor output, Tensor indices, bool columnMajor)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        int rows = g.Planes * g.Out(0) * g.Out(1);
        if (rows == 0 || g.Out(2) == 0)
        {
            return;
        }

        int minChunk = Math.Max(1, 8192 / Math.Max(1, g.Out(2) * g.Kernel(0) * g.Kernel(1) * g.Kernel(2)));
        var body = new Body<T>(g, input, output, indices, columnMajor);
        parallel.ForRange(rows, minChunk, ref body);
    }

    private readonly struct Body<T>(PoolGeometry g, Tensor input, Tensor output, Tensor indices, bool columnMajor) : IRangeBody
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        public void Invoke(int start, int end)
        {
            RunRows((T*)input.Pointer, (T*)output.Pointer, (long*)indices.Pointer, g, columnMajor, start, end);

            // The raw pointers do not keep the tensors' storage alive on their own.
            GC.KeepAlive(input);
            GC.KeepAlive(output);
            GC.KeepAlive(indices);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRows<T>(T* input, T* output, long* indices, PoolGeometry g, bool columnMajor, int start, int end)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        int inD = g.In(0), inH = g.In(1), inW = g.In(2);
        int outD = g.Out(0), outH = g.Out(1), outW = g.Out(2);
        int dilD = g.Dilation(0), dilH = g.Dilation(1), dilW = g.Dilation(2);
        int[] firstD = g.First(0), countD = g.Count(0), firstH = g.First(1), countH = g.Count(1), firstW = g.First(2), countW = g.Count(2);
        long inPlane = g.InputPlaneSize;
        for (int r = start; r < end; r++)
        {
            int plane = r / (outD * outH);
            int rem = r - plane * outD * outH;
            int od = rem / outH, oh = rem - od * outH;
            T* planeIn = input + plane * inPlane;
            long outBase = (long)r * outW;
            for (int ow = 0; ow < outW; ow++)
            {
                T best = T.MinValue;
                int bestD = firstD[od], bestH = firstH[oh], bestW = firstW[ow];
                bool any = false;
                for (int td = 0; td < countD[od]; td++)
                {
                    int d = firstD[od] + td * dilD;
                    for (int th = 0; th < countH[oh]; th++)
                    {
                        int h = firstH[oh] + th * dilH;
                        T* rowIn = planeIn + ((long)d * inH + h) * inW;
                        for (int tw = 0; tw < countW[ow]; tw++)
                        {
                            int w = firstW[ow] + tw * dilW;
                            T v = rowIn[w];
                            if (!any || v > best)
                            {
                                best = v;
                                bestD = d;
                                bestH = h;
                                bestW = w;
                                any = true;
                            }
                        }
                    }
                }

                output[outBase + ow] = best;
                long local = columnMajor
                    ? bestD + (long)bestH * inD + (long)bestW * inD * inH
                    : ((long)bestD * inH + bestH) * inW + bestW;
                indices[outBase + ow] = plane * inPlane + local;
            }
        }
    }
}
