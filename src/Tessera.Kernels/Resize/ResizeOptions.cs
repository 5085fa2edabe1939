using Tessera.Kernels.Core;

namespace Tessera.Kernels.Resize;

internal enum InterpolationMode
{
    Nearest,
    Linear,
    Cubic,
}

internal enum CoordinateMode
{
    HalfPixel,
    PytorchHalfPixel,
    AlignCorners,
    Asymmetric,
    TfHalfPixelForNn,
    TfCropAndResize,
}

internal enum NearestMode
{
    RoundPreferFloor,
    RoundPreferCeil,
    Floor,
    Ceil,

    /// <summary>Resize-10 and Upsample: floor when upsampling, ceil when downsampling (as ONNX Runtime does).</summary>
    Simple,
}

/// <summary>The attributes of a Resize (or Upsample) node, parsed once when the kernel is built.</summary>
internal sealed record ResizeOptions(
    InterpolationMode Mode,
    CoordinateMode Coordinates,
    NearestMode Nearest,
    double CubicCoeffA,
    bool ExcludeOutside,
    double ExtrapolationValue)
{
    public static ResizeOptions FromResize(KernelInfo info)
    {
        var mode = ParseMode(info.GetString("mode", "nearest"), info.OpsetVersion >= 11);
        if (info.OpsetVersion < 11)
        {
            return Legacy(mode);
        }

        string coordinates = info.GetString("coordinate_transformation_mode", "half_pixel");
        var coordinateMode = coordinates switch
        {
            "half_pixel" => CoordinateMode.HalfPixel,
            "pytorch_half_pixel" => CoordinateMode.PytorchHalfPixel,
            "align_corners" => CoordinateMode.AlignCorners,
            "asymmetric" => CoordinateMode.Asymmetric,
            "tf_half_pixel_for_nn" => CoordinateMode.TfHalfPixelForNn,
            "tf_crop_and_resize" => CoordinateMode.TfCropAndResize,
            _ => throw new KernelException($"Resize coordinate_transformation_mode '{coordinates}' is not supported"),
        };
        string nearest = info.GetString("nearest_mode", "round_prefer_floor");
        var nearestMode = nearest switch
        {
            "round_prefer_floor" => NearestMode.RoundPreferFloor,
            "round_prefer_ceil" => NearestMode.RoundPreferCeil,
            "floor" => NearestMode.Floor,
            "ceil" => NearestMode.Ceil,
            _ => throw new KernelException($"Resize nearest_mode '{nearest}' is not supported"),
        };
        if (info.GetInt("antialias", 0) != 0)
        {
            throw new KernelException("Resize antialias is not supported");
        }

        if (info.HasAttribute("keep_aspect_ratio_policy") && info.GetString("keep_aspect_ratio_policy", "stretch") != "stretch")
        {
            throw new KernelException("Resize keep_aspect_ratio_policy other than stretch is not supported");
        }

        return new ResizeOptions(mode, coordinateMode, nearestMode, info.GetFloat("cubic_coeff_a", -0.75f),
            info.GetInt("exclude_outside", 0) != 0, info.GetFloat("extrapolation_value", 0f));
    }

    /// <summary>Resize-10 and Upsample: asymmetric coordinates, nearest or linear only.</summary>
    public static ResizeOptions Legacy(InterpolationMode mode) =>
        new(mode, CoordinateMode.Asymmetric, NearestMode.Simple, -0.75, false, 0);

    public static InterpolationMode ParseMode(string mode, bool allowCubic) => mode switch
    {
        "nearest" => InterpolationMode.Nearest,
        "linear" or "bilinear" => InterpolationMode.Linear,
        "cubic" when allowCubic => InterpolationMode.Cubic,
        _ => throw new KernelException($"Resize mode '{mode}' is not supported"),
    };
}
