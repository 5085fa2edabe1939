namespace Tessera.Kernels.Resize;

/// <summary>Resize interpolation: nearest neighbour, (multi)linear, or cubic convolution.</summary>
internal enum InterpolationMode
{
    Nearest,
    Linear,
    Cubic,
}
