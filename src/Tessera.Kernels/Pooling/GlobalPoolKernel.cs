using System.Numerics;
using System.Numerics.Tensors;
using Tessera.Kernels.Core;
using Tessera.Tensors;
using Tensor = Tessera.Tensors.Tensor;

namespace Tessera.Kernels.Pooling;

/// <summary>GlobalAveragePool and GlobalMaxPool: one SIMD reduction per contiguous (n, c) spatial plane.</summary>
internal sealed unsafe class GlobalPoolKernel(bool max) : IKernel
{
    private readonly string _opType = max ? "GlobalMaxPool" : "GlobalAveragePool";

    public void Compute(KernelContext context)
    {
        Tensor x = context.RequiredInput(0, "X");
        if (x.Rank < 2)
        {
            throw new KernelException($"{_opType} needs an input of rank 2 or more (N x C x ...), got {ShapeMath.Format(x.Shape)}");
        }

        Span<int> outShape = x.Rank <= 16 ? stackalloc int[x.Rank] : new int[x.Rank];
        outShape.Fill(1);
        outShape[0] = x.Shape[0];
        outShape[1] = x.Shape[1];
        Tensor y = context.AllocateOutput(0, x.DataType, outShape);
        int planes = x.Shape[0] * x.Shape[1];
        int size = ShapeMath.Product(x.Shape, 2, x.Rank);
        if (planes == 0)
        {
            return;
        }

        if (size == 0)
        {
            throw new KernelException($"{_opType} cannot pool an empty spatial extent {ShapeMath.Format(x.Shape)}");
        }

        switch (x.DataType)
        {
            case DataType.Float32: Run<float>(context.Parallel, x, y, planes, size); break;
            case DataType.Float64: Run<double>(context.Parallel, x, y, planes, size); break;
            case DataType.Float16:
                var single = Tensor.Allocate(DataType.Float32, outShape);
                Run<float>(context.Parallel, HalfBridge.ToSingle(x), single, planes, size);
                HalfBridge.CopyToHalf(single, y);
                break;
            default:
                throw new KernelException($"{_opType} does not support {DataTypes.Name(x.DataType)} input");
        }
    }

    private void Run<T>(ParallelRunner parallel, Tensor x, Tensor y, int planes, int size)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int minChunk = Math.Max(1, 65536 / size);
        var body = new Body<T>(x, y, size, max);
        parallel.ForRange(planes, minChunk, ref body);
    }

    private readonly struct Body<T>(Tensor x, Tensor y, int size, bool isMax) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            T* input = (T*)x.Pointer;
            T* output = (T*)y.Pointer;
            T inverse = T.One / T.CreateChecked(size);
            for (int p = start; p < end; p++)
            {
                var plane = new ReadOnlySpan<T>(input + (long)p * size, size);
                output[p] = isMax ? TensorPrimitives.Max(plane) : TensorPrimitives.Sum(plane) * inverse;
            }

            // The raw pointers do not keep the tensors' storage alive on their own.
            GC.KeepAlive(x);
            GC.KeepAlive(y);
        }
    }
}
