using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Pooling;

/// <summary>AveragePool (opsets 1-19): count_include_pad from 7, ceil_mode from 10, dilations from 19.</summary>
internal sealed class AveragePoolKernel : IKernel
{
    private readonly PoolAttributes _attributes;
    private readonly bool _countIncludePad;
    private readonly PoolShapeCache _cache;

    public AveragePoolKernel(KernelInfo info)
    {
        _attributes = PoolAttributes.Parse(info, allowDilations: info.OpsetVersion >= 19);
        _countIncludePad = info.GetInt("count_include_pad", 0) != 0;
        _cache = new PoolShapeCache(_attributes);
    }

    public void Compute(KernelContext context)
    {
        Tensor x = context.RequiredInput(0, "X");
        _cache.Update(x.Shape);
        PoolGeometry g = _cache.Geometry;
        int[] outShape = _cache.OutputShape;
        Tensor y = context.AllocateOutput(0, x.DataType, outShape);
        switch (x.DataType)
        {
            case DataType.Float32:
                PoolRunner.Run<float, SumReduction<float>>(context.Parallel, g, x, y, _cache.Divisors<float>(_countIncludePad));
                break;
            case DataType.Float64:
                PoolRunner.Run<double, SumReduction<double>>(context.Parallel, g, x, y, _cache.Divisors<double>(_countIncludePad));
                break;
            case DataType.Float16:
                var single = Tensor.Allocate(DataType.Float32, outShape);
                PoolRunner.Run<float, SumReduction<float>>(context.Parallel, g, HalfBridge.ToSingle(x), single,
                    _cache.Divisors<float>(_countIncludePad));
                HalfBridge.CopyToHalf(single, y);
                break;
            default:
                throw new KernelException($"AveragePool does not support {DataTypes.Name(x.DataType)} input");
        }
    }
}
