using Tessera.Tensors;

namespace Tessera.Partitioning;

/// <summary>
/// A failure the user can cause while planning or running a plan (a bad cluster or plan file, a model that cannot
/// be split the way asked, no plan that fits). The message is one line meant to be printed as is (text from a file quoted with <see cref="UntrustedText"/>).
/// </summary>
public sealed class PartitionException : Exception
{
    public PartitionException(string message)
        : base(UntrustedText.OneLine(message))
    {
    }

    public PartitionException(string message, Exception inner)
        : base(UntrustedText.OneLine(message), inner)
    {
    }
}
