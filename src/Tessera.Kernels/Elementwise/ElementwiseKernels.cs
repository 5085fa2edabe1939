using Tessera.Kernels.Core;

namespace Tessera.Kernels.Elementwise;

/// <summary>Registers the Elementwise operator family.</summary>
/// <remarks>
/// Each operator is registered once, at the earliest opset whose semantics its kernel implements; later versions
/// only broadened types or moved attributes to inputs, which the kernels handle by looking at the node's opset.
/// </remarks>
public static class ElementwiseKernels
{
    public static void Register(KernelRegistry registry)
    {
        const int cheap = UnaryDriver.CheapChunk;
        const int costly = UnaryDriver.CostlyChunk;

        // Unary, floating point.
        registry.Register("Exp", 1, _ => new FloatUnaryKernel<ExpOperator>("Exp", default, costly));
        registry.Register("Log", 1, _ => new FloatUnaryKernel<LogOperator>("Log", default, costly));
        registry.Register("Sqrt", 1, _ => new FloatUnaryKernel<SqrtOperator>("Sqrt", default, cheap));
        registry.Register("Sin", 7, _ => new FloatUnaryKernel<SinOperator>("Sin", default, costly));
        registry.Register("Cos", 7, _ => new FloatUnaryKernel<CosOperator>("Cos", default, costly));
        registry.Register("Tanh", 1, _ => new FloatUnaryKernel<TanhOperator>("Tanh", default, costly));
        registry.Register("Sigmoid", 1, _ => new FloatUnaryKernel<SigmoidOperator>("Sigmoid", default, costly));
        registry.Register("Erf", 9, _ => new FloatUnaryKernel<ErfOperator>("Erf", default, costly));
        registry.Register("Ceil", 1, _ => new FloatUnaryKernel<CeilOperator>("Ceil", default, cheap));
        registry.Register("Floor", 1, _ => new FloatUnaryKernel<FloorOperator>("Floor", default, cheap));
        registry.Register("Round", 11, _ => new FloatUnaryKernel<RoundOperator>("Round", default, cheap));
        registry.Register("Reciprocal", 1, _ => new FloatUnaryKernel<ReciprocalOperator>("Reciprocal", default, cheap));
        registry.Register("Softplus", 1, _ => new FloatUnaryKernel<SoftplusOperator>("Softplus", default, costly));
        registry.Register("HardSwish", 14, _ => new FloatUnaryKernel<HardSwishOperator>("HardSwish", default, cheap));
        registry.Register("Elu", 1, info => new FloatUnaryKernel<EluOperator>("Elu", new EluOperator(info.GetFloat("alpha", 1f)), costly));
        registry.Register("LeakyRelu", 1, info =>
            new FloatUnaryKernel<LeakyReluOperator>("LeakyRelu", new LeakyReluOperator(info.GetFloat("alpha", 0.01f)), cheap));
        registry.Register("HardSigmoid", 1, info => new FloatUnaryKernel<HardSigmoidOperator>("HardSigmoid",
            new HardSigmoidOperator(info.GetFloat("alpha", 0.2f), info.GetFloat("beta", 0.5f)), cheap));

        // Unary, any numeric type.
        registry.Register("Abs", 1, _ => new NumericUnaryKernel<AbsOperator>("Abs", default));
        registry.Register("Neg", 1, _ => new NumericUnaryKernel<NegOperator>("Neg", default));
        registry.Register("Sign", 9, _ => new NumericUnaryKernel<SignOperator>("Sign", default));
        registry.Register("Relu", 1, _ => new NumericUnaryKernel<ReluOperator>("Relu", default));
        registry.Register("Clip", 1, info => new ClipKernel(info));
        registry.Register("Not", 1, _ => new NotKernel());
        registry.Register("Identity", 1, _ => new IdentityKernel());
        registry.Register("Cast", 1, info => new CastKernel(info));
        registry.Register("Dropout", 1, info => new DropoutKernel(info));

        // Binary arithmetic with broadcasting.
        registry.Register("Add", 1, info => new NumericBinaryKernel<AddOperator>(info, default));
        registry.Register("Sub", 1, info => new NumericBinaryKernel<SubtractOperator>(info, default));
        registry.Register("Mul", 1, info => new NumericBinaryKernel<MultiplyOperator>(info, default));
        registry.Register("Div", 1, info => new NumericBinaryKernel<DivideOperator>(info, default));
        registry.Register("Mod", 10, info => new NumericBinaryKernel<ModOperator>(info, new ModOperator(info.GetInt("fmod", 0) != 0)));
        registry.Register("PRelu", 1, info => new NumericBinaryKernel<PReluOperator>(info, default, unidirectional: true));
        registry.Register("Pow", 1, info => new PowKernel(info));

        // Comparisons and logic, producing bool.
        registry.Register("Equal", 1, info => new ComparisonKernel<EqualOperator>(info, default, allowBool: true));
        registry.Register("Greater", 1, info => new ComparisonKernel<GreaterOperator>(info, default, allowBool: false));
        registry.Register("Less", 1, info => new ComparisonKernel<LessOperator>(info, default, allowBool: false));
        registry.Register("GreaterOrEqual", 12, info => new ComparisonKernel<GreaterOrEqualOperator>(info, default, allowBool: false));
        registry.Register("LessOrEqual", 12, info => new ComparisonKernel<LessOrEqualOperator>(info, default, allowBool: false));
        registry.Register("And", 1, info => new LogicalKernel<AndOperator>(info, default));
        registry.Register("Or", 1, info => new LogicalKernel<OrOperator>(info, default));
        registry.Register("Xor", 1, info => new LogicalKernel<XorOperator>(info, default));
        registry.Register("Where", 9, _ => new WhereKernel());

        // Variadic with broadcasting (from opset 8; earlier versions required equal shapes, a subset).
        registry.Register("Max", 1, _ => new VariadicKernel<MaxOperator>("Max", default, mean: false));
        registry.Register("Min", 1, _ => new VariadicKernel<MinOperator>("Min", default, mean: false));
        registry.Register("Sum", 1, _ => new VariadicKernel<AddOperator>("Sum", default, mean: false));
        registry.Register("Mean", 1, _ => new VariadicKernel<AddOperator>("Mean", default, mean: true));
    }
}
