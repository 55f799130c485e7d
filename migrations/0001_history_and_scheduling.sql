CREATE TABLE "block_changes" (
	"id" serial PRIMARY KEY NOT NULL,
	"page_id" integer NOT NULL,
	"revision_id" integer NOT NULL,
	"block_id" text NOT NULL,
	"block_type" text NOT NULL,
	"op" text NOT NULL,
	"moved" boolean DEFAULT false NOT NULL,
	"field" text NOT NULL,
	"parent_block_id" text,
	"author_name" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "pages" ADD COLUMN "scheduled_revision_id" integer;--> statement-breakpoint
ALTER TABLE "pages" ADD COLUMN "go_live_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "pages" ADD COLUMN "expire_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "block_changes_block_idx" ON "block_changes" USING btree ("page_id","block_id","revision_id");--> statement-breakpoint
CREATE INDEX "pages_go_live_at_idx" ON "pages" USING btree ("go_live_at");--> statement-breakpoint
CREATE INDEX "pages_expire_at_idx" ON "pages" USING btree ("expire_at");