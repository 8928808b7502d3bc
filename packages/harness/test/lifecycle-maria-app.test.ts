import { describeDbRecipe } from "./db-recipes";

// Its own file, so jest runs it beside the other database recipe (each takes about two minutes).
describeDbRecipe({ name: "maria-app", database: "MariaDB", goodPr: 7, noRestoreHookPr: 8 });
