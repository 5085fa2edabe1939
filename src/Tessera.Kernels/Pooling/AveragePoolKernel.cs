using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Pooling;

/// <summary>AveragePool (opsets 1-19): count_include_pad from 7, ceil_mode from 10, dilations from 19.</summary>
internal sealed class AveragePoolKernel : IKernel
{
    private readonly PoolAttributes _attributes;
    private readonly bool _countIncludePad;

    public AveragePoolKernel(KernelInfo info)
    {
        _attributes = PoolAttributes.Parse(info, allowDilations: info.OpsetVersion >= 19);
        _countIncludePad = info.GetInt("count_include_pad", 0) != 0;
    }

    public void Compute(KernelContext context)
    {
        Tensor x = context.RequiredInput(0, "X");
        PoolGeometry g = _attributes.Resolve(x.Shape);
        int[] outShape = g.OutputShape(_attributes.SpatialRank);
        Tensor y = context.AllocateOutput(0, x.DataType, outShape);
        switch (x.DataType)
        {
            case DataType.Float32:
                PoolRunner.Run<float, SumReduction<float>>(context.Parallel, g, x, y, new AverageDivisors<float>(g, _countIncludePad));
                break;
            case DataType.Float64:
                PoolRunner.Run<double, SumReduction<double>>(context.Parallel, g, x, y, new AverageDivisors<double>(g, _countIncludePad));
                break;
            case DataType.Float16:
                var single = Tensor.Allocate(DataType.Float32, outShape);
                PoolRunner.Run<float, SumReduction<float>>(context.Parallel, g, HalfBridge.ToSingle(x), single,
                    new AverageDivisors<float>(g, _countIncludePad));
                HalfBridge.CopyToHalf(single, y);
                break;
            default:
                throw new KernelException($"AveragePool does not support {DataTypes.Name(x.DataType)} input");
        }
    }
}
