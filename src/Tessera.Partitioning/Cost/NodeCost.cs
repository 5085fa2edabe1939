namespace Tessera.Partitioning.Cost;

/// <summary>
/// The cost of one node that runs per inference (constant subgraphs are folded when a session is created and
/// cost nothing per run), for the input shapes the model was analysed with.
/// </summary>
/// <param name="Index">Position in the analysed topological order.</param>
/// <param name="Name">The node's name (or its first output in angle brackets when it has none).</param>
/// <param name="OpType">Operator, as in the optimised graph (com.tessera fused operators included).</param>
/// <param name="Family">The rate family calibration measures for it.</param>
/// <param name="Flops">Floating-point operations (2 per multiply-accumulate for products; one per output element otherwise).</param>
/// <param name="BytesMoved">Bytes of the tensors it reads and writes.</param>
/// <param name="ParameterBytes">Constant bytes first needed by this node (a constant shared by several nodes counts at its first reader).</param>
/// <param name="OutputBytes">Bytes of the values it produces.</param>
/// <param name="SplittableWeightBytes">Bytes of a constant 2-D weight a tensor-parallel split could divide (0 when none); informative only: the planner estimates tensor-parallel candidates from the real shards (<see cref="ShardedCost"/>).</param>
public sealed record NodeCost(
    int Index,
    string Name,
    string OpType,
    OperatorFamily Family,
    double Flops,
    long BytesMoved,
    long ParameterBytes,
    long OutputBytes,
    long SplittableWeightBytes);
