using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Pooling;

/// <summary>MaxPool (opsets 1-12): storage_order and Indices from 8, dilations and ceil_mode from 10, int8/uint8 from 12.</summary>
internal sealed class MaxPoolKernel : IKernel
{
    private readonly PoolAttributes _attributes;
    private readonly bool _columnMajor;
    private readonly PoolShapeCache _cache;

    public MaxPoolKernel(KernelInfo info)
    {
        _attributes = PoolAttributes.Parse(info, allowDilations: info.OpsetVersion >= 10);
        long storageOrder = info.GetInt("storage_order", 0);
        if (storageOrder is not (0 or 1))
        {
            throw new KernelException($"MaxPool storage_order must be 0 or 1, got {storageOrder}");
        }

        _columnMajor = storageOrder == 1;
        _cache = new PoolShapeCache(_attributes);
    }

    public void Compute(KernelContext context)
    {
        Tensor x = context.RequiredInput(0, "X");
        _cache.Update(x.Shape);
        PoolGeometry g = _cache.Geometry;
        int[] outShape = _cache.OutputShape;
        Tensor y = context.AllocateOutput(0, x.DataType, outShape);
        Tensor? indices = context.IsOutputRequested(1) ? context.AllocateOutput(1, DataType.Int64, outShape) : null;
        switch (x.DataType)
        {
            case DataType.Float32: Run<float>(context, g, x, y, indices); break;
            case DataType.Float64: Run<double>(context, g, x, y, indices); break;
            case DataType.Int8: Run<sbyte>(context, g, x, y, indices); break;
            case DataType.UInt8: Run<byte>(context, g, x, y, indices); break;
            case DataType.Int16: Run<short>(context, g, x, y, indices); break;
            case DataType.UInt16: Run<ushort>(context, g, x, y, indices); break;
            case DataType.Int32: Run<int>(context, g, x, y, indices); break;
            case DataType.Int64: Run<long>(context, g, x, y, indices); break;
            case DataType.Float16:
                var single = Tensor.Allocate(DataType.Float32, outShape);
                Run<float>(context, g, HalfBridge.ToSingle(x), single, indices);
                HalfBridge.CopyToHalf(single, y);
                break;
            default:
                throw new KernelException($"MaxPool does not support {DataTypes.Name(x.DataType)} input");
        }
    }

    private void Run<T>(KernelContext context, PoolGeometry g, Tensor x, Tensor y, Tensor? indices)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        if (indices is null)
        {
            PoolRunner.Run<T, MaxReduction<T>>(context.Parallel, g, x, y, null);
        }
        else
        {
            MaxPoolWithIndices.Run<T>(context.Parallel, g, x, y, indices, _columnMajor);
        }
    }
}
