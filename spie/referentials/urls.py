app_name = "referentials"

urlpatterns = []
