namespace Tessera.Kernels.Core;

/// <summary>Runs a per-index delegate over each index of a range.</summary>
internal readonly struct DelegateForBody(Action<int> body) : IRangeBody
{
    public void Invoke(int start, int end)
    {
        for (int i = start; i < end; i++)
        {
            body(i);
        }
    }
}
