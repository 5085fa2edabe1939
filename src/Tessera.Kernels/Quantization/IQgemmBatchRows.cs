namespace Tessera.Kernels.Quantization;

/// <summary>A operand rows that also name the same kind of rows further on in memory: another batch's matrix.</summary>
internal interface IQgemmBatchRows<TSelf> : IQgemmRows
    where TSelf : struct, IQgemmBatchRows<TSelf>
{
    /// <summary>These rows starting <paramref name="elements"/> elements further on.</summary>
    TSelf Skip(long elements);
}
