namespace Steward.Server.Tests.Infrastructure;

/// <summary>The catalog ids tests use (the broker's published, stable ids).</summary>
internal static class Catalogs
{
    public const string PostgreSql = "5d2f7a3e-3c1b-4e0a-9d57-8f0a1c2b3d4e";
    public const string PostgreSqlStandalone = "7c8e9f10-2a3b-4c5d-8e6f-0a1b2c3d4e5f";
    public const string PostgreSqlLarge = "9a0b1c2d-3e4f-4a5b-9c6d-7e8f9a0b1c2d";
    public const string PostgreSqlHa = "3f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    public const string Redis = "b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e";
    public const string RedisStandalone = "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f";
    public const string RedisLarge = "d5e6f7a8-b9c0-4d1e-8f2a-3b4c5d6e7f80";
    public const string RedisHa = "e6f7a8b9-c0d1-4e2f-9a3b-4c5d6e7f8091";
}
