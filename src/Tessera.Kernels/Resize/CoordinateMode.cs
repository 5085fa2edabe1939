namespace Tessera.Kernels.Resize;

/// <summary>Resize coordinate_transformation_mode: how an output position maps to an input coordinate.</summary>
internal enum CoordinateMode
{
    HalfPixel,
    PytorchHalfPixel,
    AlignCorners,
    Asymmetric,
    TfHalfPixelForNn,
    TfCropAndResize,
}
