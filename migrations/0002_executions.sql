CREATE TABLE "executions" (
	"id" text PRIMARY KEY NOT NULL,
	"page_id" integer NOT NULL,
	"block_id" text NOT NULL,
	"token_id" integer NOT NULL,
	"learner" text NOT NULL,
	"environment" text NOT NULL,
	"kernelspec" text NOT NULL,
	"gateway" text NOT NULL,
	"session_id" text,
	"code_hash" text NOT NULL,
	"code_bytes" integer NOT NULL,
	"edited" boolean NOT NULL,
	"status" text NOT NULL,
	"message" text,
	"execution_count" integer,
	"outputs" json,
	"output_bytes" integer DEFAULT 0 NOT NULL,
	"truncated" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"duration_ms" integer
);
--> statement-breakpoint
CREATE INDEX "executions_token_idx" ON "executions" USING btree ("token_id","created_at");--> statement-breakpoint
CREATE INDEX "executions_block_idx" ON "executions" USING btree ("page_id","block_id");