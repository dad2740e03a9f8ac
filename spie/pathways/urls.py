app_name = "pathways"

urlpatterns = []
