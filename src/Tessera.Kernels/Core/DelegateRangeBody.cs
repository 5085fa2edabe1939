namespace Tessera.Kernels.Core;

/// <summary>Adapts the delegate overloads of <see cref="ParallelRunner"/> to <see cref="IRangeBody"/>.</summary>
internal readonly struct DelegateRangeBody(Action<int, int> body) : IRangeBody
{
    public void Invoke(int start, int end) => body(start, end);
}
