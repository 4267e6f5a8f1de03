using Steward.Server.Http;

namespace Steward.Server.Tests.Units;

public sealed class JsonCanonicalTests
{
    [Fact]
    public void Key_order_and_white_space_do_not_make_parameters_different()
    {
        JsonCanonical.Normalize("""{ "b": 1, "a": {"y": true, "x": [2, 1]} }""").ShouldBe("""{"a":{"x":[2,1],"y":true},"b":1}""");
        JsonCanonical.Normalize(null).ShouldBe("{}");
        JsonCanonical.Normalize("   ").ShouldBe("{}");
    }

    [Fact]
    public void Update_parameters_are_merged_over_the_current_ones()
    {
        JsonCanonical.Merge("""{"a":1,"b":2}""", """{"b":3,"c":4}""").ShouldBe("""{"a":1,"b":3,"c":4}""");
        JsonCanonical.Merge("""{"a":1}""", null).ShouldBe("""{"a":1}""");
    }
}
