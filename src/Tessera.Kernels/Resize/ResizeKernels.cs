using Tessera.Kernels.Core;

namespace Tessera.Kernels.Resize;

/// <summary>Registers the Resize operator family.</summary>
public static class ResizeKernels
{
    public static void Register(KernelRegistry registry)
    {
        registry.Register("Resize", 10, info => new ResizeKernel(ResizeOptions.FromResize(info), ResizeInputs.Scales, null));
        foreach (int version in (int[])[11, 13])
        {
            registry.Register("Resize", version, info => new ResizeKernel(ResizeOptions.FromResize(info), ResizeInputs.RoiScalesSizes, null));
        }

        registry.Register("Upsample", 7, info =>
        {
            var scales = info.GetFloats("scales") ?? throw new KernelException("Upsample needs attribute 'scales' before opset 9");
            return new ResizeKernel(UpsampleOptions(info), ResizeInputs.ScalesAttribute, scales);
        });
        registry.Register("Upsample", 9, info => new ResizeKernel(UpsampleOptions(info), ResizeInputs.Scales, null));
    }

    private static ResizeOptions UpsampleOptions(KernelInfo info) =>
        ResizeOptions.Legacy(ResizeOptions.ParseMode(info.GetString("mode", "nearest"), allowCubic: false));
}
