CREATE TABLE "documents" (
	"id" serial PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"file_key" text NOT NULL,
	"file_hash" text NOT NULL,
	"file_size" bigint NOT NULL,
	"file_name" text NOT NULL,
	"content_type" text NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"uploaded_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "image_renditions" (
	"id" serial PRIMARY KEY NOT NULL,
	"image_id" integer NOT NULL,
	"filter_spec" text NOT NULL,
	"focal_point_key" text NOT NULL,
	"file_key" text NOT NULL,
	"file_size" integer NOT NULL,
	"mime" text NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "images" (
	"id" serial PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"file_key" text NOT NULL,
	"file_hash" text NOT NULL,
	"file_size" integer NOT NULL,
	"format" text NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"focal_point_x" integer,
	"focal_point_y" integer,
	"focal_point_width" integer,
	"focal_point_height" integer,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"uploaded_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "image_renditions" ADD CONSTRAINT "image_renditions_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "documents_file_hash_idx" ON "documents" USING btree ("file_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "image_renditions_spec_idx" ON "image_renditions" USING btree ("image_id","filter_spec","focal_point_key");--> statement-breakpoint
CREATE UNIQUE INDEX "images_file_hash_idx" ON "images" USING btree ("file_hash");