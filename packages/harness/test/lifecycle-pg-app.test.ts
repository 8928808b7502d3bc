import { describeDbRecipe } from "./db-recipes";

// Its own file, so jest runs it beside the other database recipe (each takes about two minutes).
describeDbRecipe({ name: "pg-app", database: "PostgreSQL", goodPr: 4, noRestoreHookPr: 5 });
