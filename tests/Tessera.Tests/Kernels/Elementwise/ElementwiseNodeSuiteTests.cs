using Tessera.Tests.Conformance;

namespace Tessera.Tests.Kernels.Elementwise;

public sealed class ElementwiseNodeSuiteTests
{
    private static readonly string[] Prefixes =
    [
        "test_abs", "test_add", "test_and", "test_cast_", "test_castlike_", "test_ceil", "test_clip", "test_cos", "test_div",
        "test_dropout", "test_elu", "test_equal", "test_erf", "test_exp", "test_floor", "test_greater", "test_hardsigmoid",
        "test_hardswish", "test_identity", "test_leakyrelu", "test_less", "test_log", "test_max", "test_mean", "test_min",
        "test_mod", "test_mul", "test_neg", "test_not", "test_or", "test_pow", "test_prelu", "test_reciprocal", "test_relu",
        "test_round", "test_sigmoid", "test_sign", "test_sin", "test_softplus", "test_sqrt", "test_sub", "test_sum",
        "test_tanh", "test_training_dropout", "test_where", "test_xor",
    ];

    // Cases the prefixes catch that belong to other families' operators (CastLike, Cosh, Sinh, Expand, LogSoftmax, MaxPool, MaxUnpool).
    private static readonly string[] OtherFamilies = ["test_cosh", "test_sinh", "test_expand", "test_logsoftmax", "test_maxpool", "test_maxunpool"];

    // Cases the suite's data cannot express to the runner: bfloat16 tensors stored as uint16 (and, for FLOAT_to_BFLOAT16,
    // produced by truncation rather than rounding), and Identity over optional/sequence values, which are not tensors.
    private static readonly string[] DataLimited =
    [
        "test_cast_BFLOAT16_to_FLOAT", "test_cast_FLOAT_to_BFLOAT16", "test_castlike_BFLOAT16_to_FLOAT_expanded",
        "test_castlike_FLOAT_to_BFLOAT16_expanded", "test_identity_opt", "test_identity_sequence",
    ];

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (string name in NodeSuite.Cases(Prefixes))
        {
            bool castLike = name.StartsWith("test_castlike_", StringComparison.Ordinal) && !name.EndsWith("_expanded", StringComparison.Ordinal);
            if (!castLike && !OtherFamilies.Any(p => name.StartsWith(p, StringComparison.Ordinal)) && !DataLimited.Contains(name))
            {
                data.Add(name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Passes(string name) => NodeSuite.AssertPasses(name);
}
